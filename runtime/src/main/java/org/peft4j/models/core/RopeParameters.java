package org.peft4j.models.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The rotary embedding's frequencies, as Transformers computes them ({@code modeling_rope_utils.py},
 * version 5): θ_i = theta^(−2i/hs) for i &lt; hs/2, then the scaling of {@link #type}.
 *
 * @param type                          the scheme
 * @param theta                         the base of the frequencies
 * @param factor                        the context extension (linear, dynamic, llama3, yarn); 1 for default
 * @param lowFreqFactor                 llama3: the low-frequency edge, as a divisor of the original context
 * @param highFreqFactor                llama3: the high-frequency edge
 * @param originalMaxPositionEmbeddings llama3, yarn: the context the model was pretrained with
 * @param betaFast                      yarn: rotations where extrapolation ends (32 by default)
 * @param betaSlow                      yarn: rotations where interpolation starts (1 by default)
 * @param attentionFactor               yarn: the scale on cos and sin, or null for the paper's 0.1 ln(s) + 1
 * @param mscale                        yarn: DeepSeek's numerator scale for the attention factor, or null
 * @param mscaleAllDim                  yarn: its denominator scale, or null
 * @param truncate                      yarn: round the correction range outwards to whole dimensions
 * @param maxPositionEmbeddings         the config's max_position_embeddings (dynamic scales past it)
 */
public record RopeParameters(RopeType type, double theta, double factor, double lowFreqFactor, double highFreqFactor,
                             int originalMaxPositionEmbeddings, double betaFast, double betaSlow, Double attentionFactor,
                             Double mscale, Double mscaleAllDim, boolean truncate, int maxPositionEmbeddings) {

    public RopeParameters {
        List<String> p = problems(type, theta, factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings,
                "rope_parameters");
        if (!p.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", p));
        }
    }

    /** Unscaled rotary embeddings with this base. */
    public static RopeParameters plain(double theta, int maxPositionEmbeddings) {
        return new RopeParameters(RopeType.DEFAULT, theta, 1, 0, 0, 0, 32, 1, null, null, null, true,
                maxPositionEmbeddings);
    }

    /**
     * Reads the rotary parameters of a config: Transformers 5's {@code rope_parameters} (with its
     * {@code rope_theta}) or 4.x's {@code rope_scaling} beside a top-level {@code rope_theta};
     * {@code rope_scaling} wins when both are given, as in Transformers. Problems are collected in {@code f}.
     *
     * @return the parameters, or null when a problem was found
     */
    public static RopeParameters read(ConfigFields f, int maxPositionEmbeddings) {
        JsonNode root = f.root();
        String key = present(root.get("rope_scaling")) ? "rope_scaling" : "rope_parameters";
        JsonNode rp = root.get(key);
        if (rp != null && !rp.isNull() && !rp.isObject()) {
            f.problem(key + " = " + rp + " must be an object");
            return null;
        }
        if (rp == null || rp.isNull()) {
            rp = JsonNodeFactory.instance.objectNode();
        }
        int before = f.problemCount();
        if (rp.path("full_attention").isObject() || rp.path("sliding_attention").isObject()) {
            f.problem(key + " gives parameters per layer type (" + String.join(", ", fieldNames(rp)) + "), which is not"
                    + " supported; valid: one set of rotary parameters for every layer");
        }
        return read(f, key, rp, f.number("rope_theta", 10000.0), maxPositionEmbeddings, before);
    }

    /**
     * Reads one set of rotary parameters from the object {@code rp} (one layer type's, for a family
     * that has several); problems are collected in {@code f}.
     *
     * @param key          where {@code rp} is, for messages ("rope_parameters.full_attention")
     * @param defaultTheta the base when {@code rp} gives no rope_theta
     * @return the parameters, or null when a problem was found
     */
    public static RopeParameters read(ConfigFields f, String key, JsonNode rp, double defaultTheta,
                                      int maxPositionEmbeddings) {
        return read(f, key, rp, defaultTheta, maxPositionEmbeddings, f.problemCount());
    }

    private static RopeParameters read(ConfigFields f, String key, JsonNode rp, double defaultTheta,
                                       int maxPositionEmbeddings, int before) {
        double theta = f.number(rp, "rope_theta", defaultTheta);
        double partial = f.number(rp, "partial_rotary_factor", f.number("partial_rotary_factor", 1.0));
        if (partial != 1.0) {
            f.problem("partial_rotary_factor = " + partial + " is not supported; valid: 1.0 (rotary on the whole head)");
        }
        String name = f.string(rp, "rope_type", f.string(rp, "type", "default"));
        RopeType type = RopeType.named(name);
        if (type == null) {
            f.problem(key + ".rope_type = '" + name + "' is not supported; valid: '"
                    + String.join("', '", RopeType.names()) + "'");
            return null;
        }
        boolean original = type == RopeType.LLAMA3 || type == RopeType.YARN;
        // Transformers fills original_max_position_embeddings from the top level, else max_position_embeddings
        int originalMax = !original ? 0 : f.has("original_max_position_embeddings")
                ? f.integer("original_max_position_embeddings", null)
                : f.integer(rp, "original_max_position_embeddings", maxPositionEmbeddings);
        Double factor = type == RopeType.DEFAULT ? Double.valueOf(1) : optional(f, rp, "factor");
        if (factor == null && type != RopeType.YARN) {
            f.problem(key + ".factor is missing; rope_type '" + name + "' needs it");
            factor = 1.0;
        } else if (factor == null) {
            // yarn without a factor: the ratio of the two context lengths, as Transformers derives it
            factor = originalMax > 0 ? maxPositionEmbeddings / (double) originalMax : 1.0;
        }
        double low = type == RopeType.LLAMA3 ? f.number(rp, "low_freq_factor", null) : 0;
        double high = type == RopeType.LLAMA3 ? f.number(rp, "high_freq_factor", null) : 0;
        // "beta_fast or 32": Transformers also replaces a zero
        Double betaFast = optional(f, rp, "beta_fast");
        Double betaSlow = optional(f, rp, "beta_slow");
        Double attention = optional(f, rp, "attention_factor");
        Double mscale = optional(f, rp, "mscale");
        Double mscaleAllDim = optional(f, rp, "mscale_all_dim");
        boolean truncate = f.bool(rp, "truncate", true);
        problems(type, theta, factor, low, high, originalMax, key).forEach(f::problem);
        if (f.problemCount() > before) {
            return null;
        }
        return new RopeParameters(type, theta, factor, low, high, originalMax,
                betaFast == null || betaFast == 0 ? 32 : betaFast, betaSlow == null || betaSlow == 0 ? 1 : betaSlow,
                attention, mscale, mscaleAllDim, truncate, maxPositionEmbeddings);
    }

    private static boolean present(JsonNode n) {
        return n != null && !n.isNull() && !(n.isObject() && n.isEmpty());
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static Double optional(ConfigFields f, JsonNode node, String name) {
        return f.has(node, name) ? Double.valueOf(f.number(node, name, 0.0)) : null;
    }

    private static List<String> problems(RopeType type, double theta, double factor, double low, double high,
                                         int original, String key) {
        List<String> p = new ArrayList<>();
        if (type == null) {
            p.add(key + ".rope_type is missing");
            return p;
        }
        if (!(theta > 0)) {
            p.add(key + ".rope_theta = " + theta + " must be > 0");
        }
        if (!(factor > 0)) {
            p.add(key + ".factor = " + factor + " must be > 0");
        }
        if (type == RopeType.LLAMA3 && (!(low > 0) || !(high > low))) {
            p.add(key + ".low_freq_factor = " + low + " and high_freq_factor = " + high
                    + " must satisfy 0 < low_freq_factor < high_freq_factor (Llama 3.1: 1 and 4)");
        }
        if ((type == RopeType.LLAMA3 || type == RopeType.YARN) && original <= 0) {
            p.add(key + ".original_max_position_embeddings = " + original + " must be > 0 (Llama 3.1: 8192)");
        }
        return p;
    }

    /** The scale Transformers puts on cos and sin: YaRN's attention temperature, 1 for the others. */
    public double attentionScaling() {
        if (type != RopeType.YARN) {
            return 1.0;
        }
        if (attentionFactor != null) {
            return attentionFactor;
        }
        if (mscale != null && mscale != 0 && mscaleAllDim != null && mscaleAllDim != 0) {
            return yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim);
        }
        return yarnMscale(factor, 1);
    }

    /** YaRN's temperature (Peng et al. 2023, eq. 22 with √(1/t) = 0.1 ln(s) + 1). */
    private static double yarnMscale(double scale, double m) {
        return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
    }

    /** Whether the frequencies depend on the sequence length (dynamic NTK past max_position_embeddings). */
    public boolean dependsOnLength() {
        return type == RopeType.DYNAMIC;
    }

    /**
     * The inverse frequencies for a head of {@code headDim}.
     *
     * @param seqLen the longest position + 1 of the call; only dynamic scaling reads it
     */
    public double[] inverseFrequencies(int headDim, long seqLen) {
        double[] inv = base(headDim, theta);
        switch (type) {
            case DEFAULT:
                return inv;
            case LINEAR:
                for (int i = 0; i < inv.length; i++) {
                    inv[i] /= factor;
                }
                return inv;
            case DYNAMIC:
                // NTK-aware: base · (s·L/L₀ − (s − 1))^(d/(d−2)) with L = max(seqLen, L₀)
                double length = Math.max(seqLen, maxPositionEmbeddings);
                double grown = theta * Math.pow(factor * length / maxPositionEmbeddings - (factor - 1),
                        headDim / (headDim - 2.0));
                return base(headDim, grown);
            case LLAMA3:
                return llama3(inv);
            case YARN:
                return yarn(inv, headDim);
            default:
                throw new IllegalStateException(type.name());
        }
    }

    /** θ_i = 1 / theta^(2i / hs), i = 0 .. hs/2 − 1. */
    private static double[] base(int headDim, double theta) {
        double[] inv = new double[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
        }
        return inv;
    }

    /**
     * Llama 3.1, as {@code _compute_llama3_parameters}: wavelengths longer than original / low_freq_factor
     * are slowed down by factor, those shorter than original / high_freq_factor kept, the band between
     * interpolated smoothly.
     */
    private double[] llama3(double[] invFreq) {
        double lowFreqWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
        double highFreqWavelen = originalMaxPositionEmbeddings / highFreqFactor;
        double[] out = new double[invFreq.length];
        for (int i = 0; i < invFreq.length; i++) {
            double wavelen = 2 * Math.PI / invFreq[i];
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

    /**
     * YaRN's NTK-by-parts (Peng et al. 2023, eq. 18-19): dimensions that turn fewer than beta_slow
     * times over the original context are interpolated (θ / s), those that turn more than beta_fast
     * times kept, with a linear ramp between, as {@code _compute_yarn_parameters}.
     */
    private double[] yarn(double[] invFreq, int dim) {
        double low = correctionDim(betaFast, dim);
        double high = correctionDim(betaSlow, dim);
        if (truncate) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) {
            high += 0.001;   // Transformers' guard against a zero-width ramp
        }
        double[] out = new double[invFreq.length];
        for (int i = 0; i < out.length; i++) {
            double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
            double extrapolation = 1 - ramp;
            out[i] = invFreq[i] / factor * (1 - extrapolation) + invFreq[i] * extrapolation;
        }
        return out;
    }

    /** The dimension whose wavelength turns {@code rotations} times over the original context (eq. 17 inverted). */
    private double correctionDim(double rotations, int dim) {
        return dim * Math.log(originalMaxPositionEmbeddings / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
    }
}
