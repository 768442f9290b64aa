package org.peft4j.models.llama;

import java.util.ArrayList;
import java.util.List;

/**
 * Llama 3.1's rotary frequency scaling ({@code rope_scaling.rope_type = "llama3"}), as
 * transformers' {@code _compute_llama3_parameters}: wavelengths longer than
 * original_max_position_embeddings / low_freq_factor are slowed down by {@code factor}, those
 * shorter than original / high_freq_factor are kept, and the band between is interpolated
 * smoothly. The attention scaling factor stays 1.
 *
 * @param factor                        how much longer the new context is
 * @param lowFreqFactor                 the low-frequency edge, as a divisor of the original context
 * @param highFreqFactor                the high-frequency edge, as a divisor of the original context
 * @param originalMaxPositionEmbeddings the context length the model was pretrained with
 */
public record Llama3RopeScaling(double factor, double lowFreqFactor, double highFreqFactor,
                                int originalMaxPositionEmbeddings) {

    public Llama3RopeScaling {
        List<String> p = problems(factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings);
        if (!p.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", p));
        }
    }

    static List<String> problems(double factor, double low, double high, int original) {
        List<String> p = new ArrayList<>();
        if (!(factor > 0)) {
            p.add("rope_scaling.factor = " + factor + " must be > 0");
        }
        if (!(low > 0) || !(high > low)) {
            p.add("rope_scaling.low_freq_factor = " + low + " and high_freq_factor = " + high
                    + " must satisfy 0 < low_freq_factor < high_freq_factor (Llama 3.1: 1 and 4)");
        }
        if (original <= 0) {
            p.add("rope_scaling.original_max_position_embeddings = " + original + " must be > 0 (Llama 3.1: 8192)");
        }
        return p;
    }

    /** The scaled inverse frequencies; {@code invFreq} is left unchanged. */
    public double[] apply(double[] invFreq) {
        double lowFreqWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
        double highFreqWavelen = originalMaxPositionEmbeddings / highFreqFactor;
        double[] out = new double[invFreq.length];
        for (int i = 0; i < invFreq.length; i++) {
            double wavelen = 2 * Math.PI / invFreq[i];
            // long wavelengths (low frequencies) are divided by factor
            double scaled = wavelen > lowFreqWavelen ? invFreq[i] / factor : invFreq[i];
            boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            if (medium) {
                double smooth = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                scaled = (1 - smooth) * scaled / factor + smooth * scaled;
            }
            out[i] = scaled;
        }
        return out;
    }
}
