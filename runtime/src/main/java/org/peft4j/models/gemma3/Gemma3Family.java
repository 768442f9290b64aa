package org.peft4j.models.gemma3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.models.core.Activation;
import org.peft4j.models.core.ConfigFields;
import org.peft4j.models.core.DecoderConfig;
import org.peft4j.models.core.DecoderFamily;
import org.peft4j.models.core.DecoderOptions;
import org.peft4j.models.core.LayerType;
import org.peft4j.models.core.RopeParameters;
import org.peft4j.models.core.SlidingLayers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Gemma 3's text decoder ({@code gemma3_text}: Gemma 3 270M and 1B, and the language model of the
 * larger ones saved on its own), as Transformers' Gemma3ForCausalLM computes it: token embeddings
 * times √H; RMSNorms that scale by (1 + w); four norms per layer (the attention and MLP outputs are
 * normalised before each residual add); q_norm and k_norm; scores scaled by
 * query_pre_attn_scalar^−½; GeGLU (hidden_activation); sliding-window layers (every
 * sliding_window_pattern-th layer global unless layer_types says) with their own rotary base
 * (rope_local_base_freq, or rope_parameters.sliding_attention); tied embeddings; logits soft-capped
 * when final_logit_softcapping is set.
 *
 * <p>attn_logit_softcapping is read and, as in Transformers 5.x, not applied: Gemma3Attention never
 * passes it to its attention function. use_bidirectional_attention (EmbeddingGemma) is refused.
 */
public final class Gemma3Family extends DecoderFamily {

    public static final Gemma3Family INSTANCE = new Gemma3Family();

    private static final String FULL = LayerType.FULL_ATTENTION.hfName();
    private static final String SLIDING = LayerType.SLIDING_ATTENTION.hfName();

    private Gemma3Family() {
    }

    @Override
    public String name() {
        return "gemma3";
    }

    @Override
    public List<String> modelTypes() {
        return List.of("gemma3_text");
    }

    @Override
    public DecoderConfig readConfig(Path configFile) throws IOException {
        ConfigFields f = ConfigFields.read(configFile, "Gemma3Text");
        requireModelType(f);
        DecoderConfig config = DecoderConfig.read(f, "gemma3_text", 131072, 256, "hidden_activation",
                Activation.GELU_TANH, Gemma3Family::fullAttentionRope);
        boolean tied = f.bool("tie_word_embeddings", true);
        boolean bias = f.bool("attention_bias", false);
        double queryScalar = f.number("query_pre_attn_scalar", 256.0);
        double finalCap = f.number("final_logit_softcapping", 0.0);
        f.number("attn_logit_softcapping", 0.0);
        if (f.bool("use_bidirectional_attention", false)) {
            f.problem("use_bidirectional_attention = true (EmbeddingGemma) is not supported; valid: false (causal"
                    + " attention, Gemma 3's language models)");
        }
        int window = f.has("sliding_window") ? f.integer("sliding_window", null)
                : f.root().has("sliding_window") ? 0 : 4096;
        int pattern = f.integer("sliding_window_pattern", 6);
        if (pattern <= 0) {
            f.problem("sliding_window_pattern = " + pattern + " must be > 0 (every pattern-th layer is global)");
        }
        int layers = config == null ? 0 : config.numHiddenLayers();
        List<LayerType> types = SlidingLayers.read(f, layers, i -> pattern > 0 && (i + 1) % pattern != 0);
        if (window <= 0 && types.contains(LayerType.SLIDING_ATTENTION)) {
            f.problem("sliding_window = " + f.root().get("sliding_window") + " but layer_types has sliding_attention"
                    + " layers; give a window > 0, or make every layer full_attention");
        }
        if (!(queryScalar > 0)) {
            f.problem("query_pre_attn_scalar = " + queryScalar + " must be > 0 (the scores are scaled by its inverse"
                    + " square root)");
        }
        if (finalCap < 0) {
            f.problem("final_logit_softcapping = " + finalCap + " must be > 0, or null for none");
        }
        RopeParameters local = slidingAttentionRope(f, config == null ? 131072 : config.maxPositionEmbeddings());
        f.throwIfAny(List.of());
        DecoderOptions options = DecoderOptions.gemma(Math.sqrt(config.hiddenSize()), queryScalar, finalCap, local);
        return config.withTiedEmbeddings(tied).withBiases(bias, bias, false).withSlidingWindow(window, types)
                .withOptions(options);
    }

    /**
     * The full-attention layers' rotary parameters: rope_parameters.full_attention (Transformers 5),
     * updated by 4.x's rope_scaling, with rope_theta (10⁶ by default) when neither gives a base.
     */
    private static RopeParameters fullAttentionRope(ConfigFields f, int maxPositions) {
        JsonNode rp = f.root().get("rope_parameters");
        if (rp != null && rp.isObject() && !rp.isEmpty() && !rp.has(FULL) && !rp.has(SLIDING)) {
            f.problem("rope_parameters = " + rp + " gives one set for every layer, which gemma3_text does not read;"
                    + " valid: an object per layer type ({\"" + FULL + "\": {...}, \"" + SLIDING + "\": {...}})");
            return null;
        }
        ObjectNode full = perType(f, FULL);
        JsonNode scaling = f.root().get("rope_scaling");
        if (scaling != null && scaling.isObject()) {
            full.setAll((ObjectNode) scaling);
        } else if (scaling != null && !scaling.isNull()) {
            f.problem("rope_scaling = " + scaling + " must be an object or null");
        }
        String key = scaling != null && scaling.isObject() ? "rope_scaling" : "rope_parameters." + FULL;
        return RopeParameters.read(f, key, full, f.number("rope_theta", 1_000_000.0), maxPositions);
    }

    /** The sliding layers' rotary parameters, with rope_local_base_freq (10⁴ by default) when they give no base. */
    private static RopeParameters slidingAttentionRope(ConfigFields f, int maxPositions) {
        return RopeParameters.read(f, "rope_parameters." + SLIDING, perType(f, SLIDING),
                f.number("rope_local_base_freq", 10_000.0), maxPositions);
    }

    /** A copy of rope_parameters' object for one layer type; empty when absent. */
    private static ObjectNode perType(ConfigFields f, String type) {
        JsonNode rp = f.root().get("rope_parameters");
        JsonNode node = rp == null || !rp.isObject() ? null : rp.get(type);
        if (rp != null && !rp.isNull() && !rp.isObject() && type.equals(FULL)) {
            f.problem("rope_parameters = " + rp + " must be an object");
        } else if (node != null && !node.isNull() && !node.isObject()) {
            f.problem("rope_parameters." + type + " = " + node + " must be an object");
        }
        return node != null && node.isObject() ? ((ObjectNode) node).deepCopy() : JsonNodeFactory.instance.objectNode();
    }
}
