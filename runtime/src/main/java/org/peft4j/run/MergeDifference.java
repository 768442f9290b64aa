package org.peft4j.run;

import java.util.Locale;

/**
 * How far a merged model's outputs are from the unmerged model's on the same inputs: the largest absolute
 * difference of any logit, beside the largest logit, so the figure can be read against the outputs' scale.
 *
 * @param largest the largest |merged − unmerged| over every output of every input
 * @param scale   the largest |unmerged output|
 * @param inputs  how many inputs were compared
 */
public record MergeDifference(double largest, double scale, int inputs) {

    /**
     * The expected ceiling relative to max(1, scale): in float32, W + s·B·A rounds like the two separate
     * products to about 1e-6, so 1e-4 (the project's agreement with Hugging Face) leaves room and still
     * catches a wrong scaling or layout; with float16 frozen weights the merged delta is rounded to half
     * precision, and 2% is what half precision agrees to elsewhere.
     */
    public static double tolerance(boolean half) {
        return half ? 2e-2 : 1e-4;
    }

    /** Compares two models' outputs, row by row (one row per input). */
    public static MergeDifference of(float[][] unmerged, float[][] merged) {
        if (unmerged.length != merged.length) {
            throw new IllegalArgumentException(unmerged.length + " inputs unmerged against " + merged.length + " merged");
        }
        double largest = 0;
        double scale = 0;
        for (int i = 0; i < unmerged.length; i++) {
            if (unmerged[i].length != merged[i].length) {
                throw new IllegalArgumentException("input " + i + ": " + unmerged[i].length + " outputs unmerged against "
                        + merged[i].length + " merged");
            }
            for (int k = 0; k < unmerged[i].length; k++) {
                // a NaN anywhere makes the difference NaN, which no tolerance accepts
                double d = Math.abs((double) merged[i][k] - unmerged[i][k]);
                largest = Double.isNaN(d) || d > largest ? d : largest;
                scale = Math.max(scale, Math.abs(unmerged[i][k]));
            }
        }
        return new MergeDifference(largest, scale, unmerged.length);
    }

    /** True when the difference is within {@link #tolerance} of the outputs' scale. */
    public boolean acceptable(boolean half) {
        return largest <= tolerance(half) * Math.max(1, scale);
    }

    /** "2.38e-07 (largest |logit| 4.31, 4 inputs)". */
    public String describe() {
        return String.format(Locale.ROOT, "%.2e (largest |logit| %.4g, %d input%s)", largest, scale, inputs,
                inputs == 1 ? "" : "s");
    }
}
