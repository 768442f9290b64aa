package org.peft4j.bench;

import java.util.Arrays;

/**
 * Repeated wall-clock measurements of one thing: median and spread (10th–90th percentile).
 *
 * @param seconds every measured repeat, warm-up excluded, in the order taken
 */
public record Timing(double[] seconds) {

    public double median() {
        return percentile(50);
    }

    public double p10() {
        return percentile(10);
    }

    public double p90() {
        return percentile(90);
    }

    private double percentile(double p) {
        double[] s = seconds.clone();
        Arrays.sort(s);
        if (s.length == 0) {
            return Double.NaN;
        }
        double pos = p / 100 * (s.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }

    /** Runs {@code warmup} untimed repeats, then times {@code repeats}. */
    public static Timing measure(int warmup, int repeats, Runnable body) {
        for (int i = 0; i < warmup; i++) {
            body.run();
        }
        double[] out = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            body.run();
            out[i] = (System.nanoTime() - t0) / 1e9;
        }
        return new Timing(out);
    }
}
