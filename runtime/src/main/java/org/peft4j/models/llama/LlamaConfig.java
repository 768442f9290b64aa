package org.peft4j.models.llama;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.models.ConfigFields;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape of a Llama-family decoder (Llama, Mistral, Qwen2), as in a Hugging Face
 * {@code config.json}. Every instance is valid: the constructor checks all fields at once.
 *
 * @param modelType             which family; Qwen2 puts biases on q, k and v
 * @param hiddenSize            H, the width of the residual stream
 * @param intermediateSize      width of the SwiGLU feed-forward layer
 * @param numHiddenLayers       number of decoder layers
 * @param numAttentionHeads     nh, query heads
 * @param numKeyValueHeads      nkv, key/value heads (grouped-query attention); nh must be a multiple
 * @param headDim               hs, width of one head (H / nh unless the config gives head_dim)
 * @param rmsNormEps            epsilon of every RMSNorm
 * @param ropeTheta             base of the rotary frequencies
 * @param ropeScaling           Llama 3.1 frequency scaling, or null
 * @param vocabSize             V, rows of the token embedding and logits per position
 * @param maxPositionEmbeddings longest sequence accepted
 * @param tieWordEmbeddings     whether the LM head reuses the token embedding (no lm_head tensor)
 * @param qkvBias               whether q_proj, k_proj and v_proj have biases
 * @param outputBias            whether o_proj has a bias
 */
public record LlamaConfig(
        ModelType modelType,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        Llama3RopeScaling ropeScaling,
        int vocabSize,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean qkvBias,
        boolean outputBias) {

    /** The families this loader reads; they share one architecture up to biases and defaults. */
    public enum ModelType {
        LLAMA("llama"), MISTRAL("mistral"), QWEN2("qwen2");

        private final String hfName;

        ModelType(String hfName) {
            this.hfName = hfName;
        }

        public String hfName() {
            return hfName;
        }

        static ModelType of(String name) {
            for (ModelType t : values()) {
                if (t.hfName.equals(name)) {
                    return t;
                }
            }
            return null;
        }
    }

    public LlamaConfig {
        List<String> p = problems(hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads,
                headDim, rmsNormEps, ropeTheta, vocabSize, maxPositionEmbeddings);
        if (modelType == null) {
            p.add(0, "modelType is missing");
        }
        if (!p.isEmpty()) {
            throw new org.peft4j.config.ConfigException(p);
        }
    }

    /** nh / nkv: how many query heads share one key/value head. */
    public int groups() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /**
     * Reads a Hugging Face {@code config.json}. Defaults are those of transformers' LlamaConfig
     * (rms_norm_eps 1e-6, rope_theta 10000, untied, no attention bias). Problems name the file and
     * are reported together. Mistral's sliding window is not applied, so sequences up to
     * sliding_window (4096 for Mistral 7B) compute exactly and longer ones attend further back.
     */
    public static LlamaConfig read(Path file) throws IOException {
        ConfigFields f = ConfigFields.read(file, "Llama");
        String typeName = f.string("model_type", null);
        ModelType type = ModelType.of(typeName);
        if (type == null) {
            f.problem("model_type = " + (typeName == null ? "(missing)" : "'" + typeName + "'")
                    + " is not supported by the Llama loader; valid: 'llama', 'mistral', 'qwen2'");
            type = ModelType.LLAMA;
        }
        String act = f.string("hidden_act", "silu");
        if (!act.equals("silu")) {
            f.problem("hidden_act = '" + act + "' is not supported; valid: 'silu' (SwiGLU)");
        }
        int hidden = f.integer("hidden_size", null);
        int intermediate = f.integer("intermediate_size", null);
        int layers = f.integer("num_hidden_layers", null);
        int heads = f.integer("num_attention_heads", null);
        int kvHeads = f.integer("num_key_value_heads", heads);
        int headDim = f.integer("head_dim", heads > 0 ? hidden / heads : 0);
        double eps = f.number("rms_norm_eps", 1e-6);
        double theta = f.number("rope_theta", 10000.0);
        int vocab = f.integer("vocab_size", null);
        int maxPos = f.integer("max_position_embeddings", 2048);
        boolean tied = f.bool("tie_word_embeddings", false);
        boolean attentionBias = f.bool("attention_bias", false);
        Llama3RopeScaling scaling = ropeScaling(f);
        if (heads > 0 && !f.has("head_dim") && hidden % heads != 0) {
            f.problem("hidden_size = " + hidden + " is not divisible by num_attention_heads = " + heads
                    + "; give head_dim, or make each head hidden_size / num_attention_heads wide");
        }
        List<String> more = f.hasProblems() ? List.of() : problems(hidden, intermediate, layers, heads, kvHeads,
                headDim, eps, theta, vocab, maxPos);
        f.throwIfAny(more);
        // Qwen2 always has q/k/v biases and none on o_proj; Llama's attention_bias puts one on all four
        boolean qkvBias = type == ModelType.QWEN2 || attentionBias;
        boolean outputBias = type != ModelType.QWEN2 && attentionBias;
        return new LlamaConfig(type, hidden, intermediate, layers, heads, kvHeads, headDim, eps, theta, scaling, vocab,
                maxPos, tied, qkvBias, outputBias);
    }

    private static Llama3RopeScaling ropeScaling(ConfigFields f) {
        JsonNode s = f.root().get("rope_scaling");
        if (s == null || s.isNull()) {
            return null;
        }
        String kind = f.string(s, "rope_type", f.string(s, "type", null));
        if (kind == null || kind.equals("default")) {
            return null;
        }
        if (!kind.equals("llama3")) {
            f.problem("rope_scaling.rope_type = '" + kind + "' is not supported; valid: 'llama3' (or no rope_scaling)");
            return null;
        }
        double factor = f.number(s, "factor", null);
        double low = f.number(s, "low_freq_factor", null);
        double high = f.number(s, "high_freq_factor", null);
        int original = f.integer(s, "original_max_position_embeddings", null);
        List<String> p = Llama3RopeScaling.problems(factor, low, high, original);
        if (!p.isEmpty()) {
            p.forEach(f::problem);
            return null;
        }
        return new Llama3RopeScaling(factor, low, high, original);
    }

    private static List<String> problems(int hidden, int intermediate, int layers, int heads, int kvHeads, int headDim,
                                         double eps, double theta, int vocab, int maxPos) {
        List<String> p = new ArrayList<>();
        positive(p, "hidden_size", hidden);
        positive(p, "intermediate_size", intermediate);
        positive(p, "num_hidden_layers", layers);
        positive(p, "num_attention_heads", heads);
        positive(p, "num_key_value_heads", kvHeads);
        positive(p, "vocab_size", vocab);
        positive(p, "max_position_embeddings", maxPos);
        if (headDim <= 0 || headDim % 2 != 0) {
            p.add("head_dim = " + headDim + " must be a positive even number (rotary embeddings rotate pairs)");
        }
        if (heads > 0 && kvHeads > 0 && heads % kvHeads != 0) {
            p.add("num_attention_heads = " + heads + " is not a multiple of num_key_value_heads = " + kvHeads
                    + "; each key/value head serves an equal group of query heads");
        }
        if (!(eps > 0)) {
            p.add("rms_norm_eps = " + eps + " must be > 0");
        }
        if (!(theta > 0)) {
            p.add("rope_theta = " + theta + " must be > 0");
        }
        return p;
    }

    private static void positive(List<String> p, String field, int value) {
        if (value <= 0) {
            p.add(field + " = " + value + " must be > 0");
        }
    }
}
