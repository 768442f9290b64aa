package org.peft4j.models.core;

import org.peft4j.config.ConfigException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.BiFunction;

/**
 * The shape of a pre-norm decoder in Llama's layout (Llama, Mistral, Qwen2 and their kin), as in a
 * Hugging Face {@code config.json}. Every instance is valid: the constructor checks all fields at once.
 *
 * @param common                the fields every config carries
 * @param hiddenSize            H, the width of the residual stream
 * @param intermediateSize      width of the gated feed-forward layer
 * @param numHiddenLayers       number of decoder layers
 * @param numAttentionHeads     nh, query heads
 * @param numKeyValueHeads      nkv, key/value heads (grouped-query attention); nh must be a multiple
 * @param headDim               hs, width of one head (H / nh unless the config gives head_dim)
 * @param rmsNormEps            epsilon of every RMSNorm
 * @param rope                  the rotary frequencies
 * @param vocabSize             V, rows of the token embedding and logits per position
 * @param maxPositionEmbeddings the longest sequence the model was made for
 * @param tieWordEmbeddings     whether the LM head reuses the token embedding (no lm_head tensor)
 * @param qkvBias               whether q_proj, k_proj and v_proj have biases
 * @param outputBias            whether o_proj has a bias
 * @param mlpBias               whether the feed-forward projections have biases
 * @param activation            the feed-forward gate's activation
 * @param attentionDropout      dropout on attention probabilities while training
 * @param slidingWindow         W of the sliding-window layers, 0 when there are none
 * @param layerTypes            each layer's attention, one per layer
 * @param initializerRange      σ of the normal that random initialisation draws from
 * @param options               what the family changes in Llama's layout (norms, q/k norms, scales, soft-caps,
 *                              rotary per layer)
 */
public record DecoderConfig(
        CommonFields common,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double rmsNormEps,
        RopeParameters rope,
        int vocabSize,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean qkvBias,
        boolean outputBias,
        boolean mlpBias,
        Activation activation,
        float attentionDropout,
        int slidingWindow,
        List<LayerType> layerTypes,
        double initializerRange,
        DecoderOptions options) implements ModelConfig {

    public DecoderConfig {
        layerTypes = List.copyOf(layerTypes);
        List<String> p = problems(hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads,
                headDim, rmsNormEps, vocabSize, maxPositionEmbeddings, attentionDropout);
        if (common == null || rope == null || activation == null || options == null) {
            p.add("common, rope, activation and options must be given");
        }
        if (layerTypes.size() != numHiddenLayers) {
            p.add("layer_types has " + layerTypes.size() + " entries for num_hidden_layers = " + numHiddenLayers
                    + "; give one per layer");
        }
        if (layerTypes.contains(LayerType.SLIDING_ATTENTION) && slidingWindow <= 0) {
            p.add("layer_types has sliding_attention layers but sliding_window = " + slidingWindow
                    + "; give a window > 0");
        }
        if (options != null && options.noRopeLayers().stream().anyMatch(i -> i >= numHiddenLayers)) {
            p.add("no-rope layers " + options.noRopeLayers() + " name layers past num_hidden_layers = "
                    + numHiddenLayers);
        }
        ConfigException.throwIfAny(p);
    }

    /**
     * A Llama in this shape: unscaled rotary embeddings, SwiGLU, no biases, full attention everywhere;
     * for models built in code (benchmarks, training from scratch).
     */
    public static DecoderConfig llama(int hiddenSize, int intermediateSize, int layers, int heads, int kvHeads,
                                      int headDim, double rmsNormEps, double ropeTheta, int vocabSize, int maxPositions,
                                      boolean tieWordEmbeddings) {
        return new DecoderConfig(new CommonFields("llama", List.of(), null), hiddenSize, intermediateSize, layers, heads,
                kvHeads, headDim, rmsNormEps, RopeParameters.plain(ropeTheta, maxPositions), vocabSize, maxPositions,
                tieWordEmbeddings, false, false, false, Activation.SILU, 0f, 0,
                Collections.nCopies(layers, LayerType.FULL_ATTENTION), 0.02, DecoderOptions.LLAMA);
    }

    /**
     * Reads the fields every Llama-layout config shares, with Transformers' LlamaConfig defaults
     * (rms_norm_eps 1e-6, rope_theta 10000, untied, no biases, full attention everywhere); the family
     * then sets its own with {@link #withBiases} and {@link #withSlidingWindow}. Problems are collected
     * in {@code f}.
     *
     * @param family              the family's name, for messages
     * @param defaultMaxPositions max_position_embeddings when the config has none
     * @return the config, or null when a problem was found
     */
    public static DecoderConfig read(ConfigFields f, String family, int defaultMaxPositions) {
        int before = f.problemCount();
        String act = f.string("hidden_act", "silu");
        if (!act.equals("silu")) {
            f.problem("hidden_act = '" + act + "' is not supported; valid: 'silu' (SwiGLU)");
        }
        return read(f, family, defaultMaxPositions, 0, Activation.SILU, RopeParameters::read, before);
    }

    /**
     * As {@link #read(ConfigFields, String, int)} with the family's own defaults, and any activation
     * of {@link Activation} read from {@code activationField}.
     *
     * @param defaultHeadDim     head_dim when the config has none (Qwen 3: 128, Gemma 3: 256), or 0 for H / nh
     * @param activationField    the field naming the feed-forward activation (hidden_act; Gemma's hidden_activation)
     * @param defaultActivation  the activation when that field is absent
     * @param rope               reads the rotary parameters of the config (every layer's, or full-attention
     *                           layers' when sliding ones have their own), given max_position_embeddings;
     *                           {@link RopeParameters#read(ConfigFields, int)} for one set
     */
    public static DecoderConfig read(ConfigFields f, String family, int defaultMaxPositions, int defaultHeadDim,
                                     String activationField, Activation defaultActivation,
                                     BiFunction<ConfigFields, Integer, RopeParameters> rope) {
        int before = f.problemCount();
        Activation act = Activation.read(f, activationField, defaultActivation);
        return read(f, family, defaultMaxPositions, defaultHeadDim, act == null ? defaultActivation : act, rope, before);
    }

    private static DecoderConfig read(ConfigFields f, String family, int defaultMaxPositions, int defaultHeadDim,
                                      Activation activation, BiFunction<ConfigFields, Integer, RopeParameters> ropeReader,
                                      int before) {
        CommonFields common = CommonFields.read(f, family);
        int hidden = f.integer("hidden_size", null);
        int intermediate = f.integer("intermediate_size", null);
        int layers = f.integer("num_hidden_layers", null);
        int heads = f.integer("num_attention_heads", null);
        int kvHeads = f.integer("num_key_value_heads", heads);
        int headDim = f.integer("head_dim", defaultHeadDim > 0 ? defaultHeadDim : heads > 0 ? hidden / heads : 0);
        double eps = f.number("rms_norm_eps", 1e-6);
        int vocab = f.integer("vocab_size", null);
        int maxPos = f.integer("max_position_embeddings", defaultMaxPositions);
        boolean tied = f.bool("tie_word_embeddings", false);
        double dropout = f.number("attention_dropout", 0.0);
        double initRange = f.number("initializer_range", 0.02);
        RopeParameters rope = ropeReader.apply(f, maxPos);
        if (heads > 0 && !f.has("head_dim") && defaultHeadDim <= 0 && hidden % heads != 0) {
            f.problem("hidden_size = " + hidden + " is not divisible by num_attention_heads = " + heads
                    + "; give head_dim, or make each head hidden_size / num_attention_heads wide");
        }
        if (f.problemCount() == before) {
            problems(hidden, intermediate, layers, heads, kvHeads, headDim, eps, vocab, maxPos, (float) dropout)
                    .forEach(f::problem);
        }
        if (f.problemCount() > before) {
            return null;
        }
        return new DecoderConfig(common, hidden, intermediate, layers, heads, kvHeads, headDim, eps, rope, vocab, maxPos,
                tied, false, false, false, activation, (float) dropout, 0,
                Collections.nCopies(layers, LayerType.FULL_ATTENTION), initRange, DecoderOptions.LLAMA);
    }

    /** This config with the family's biases. */
    public DecoderConfig withBiases(boolean qkv, boolean output, boolean mlp) {
        return new DecoderConfig(common, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, rmsNormEps, rope, vocabSize, maxPositionEmbeddings, tieWordEmbeddings, qkv,
                output, mlp, activation, attentionDropout, slidingWindow, layerTypes, initializerRange, options);
    }

    /** This config with sliding-window layers: {@code window} W, and each layer's type. */
    public DecoderConfig withSlidingWindow(int window, List<LayerType> types) {
        return new DecoderConfig(common, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, rmsNormEps, rope, vocabSize, maxPositionEmbeddings, tieWordEmbeddings,
                qkvBias, outputBias, mlpBias, activation, attentionDropout, window, types, initializerRange, options);
    }

    /** This config with its LM head tied to the token embedding or not (the family's default may differ from Llama's). */
    public DecoderConfig withTiedEmbeddings(boolean tied) {
        return new DecoderConfig(common, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, rmsNormEps, rope, vocabSize, maxPositionEmbeddings, tied, qkvBias, outputBias,
                mlpBias, activation, attentionDropout, slidingWindow, layerTypes, initializerRange, options);
    }

    /** This config with the family's {@code options}. */
    public DecoderConfig withOptions(DecoderOptions options) {
        return new DecoderConfig(common, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, rmsNormEps, rope, vocabSize, maxPositionEmbeddings, tieWordEmbeddings,
                qkvBias, outputBias, mlpBias, activation, attentionDropout, slidingWindow, layerTypes, initializerRange,
                options);
    }

    /**
     * The attention of layer {@code index}: scores scaled by head_dim^−½, or query_pre_attn_scalar^−½
     * when the family sets one; rotary unless the layer is a no-rope layer.
     */
    public AttentionOptions attention(int index) {
        double s = options.queryPreAttnScalar() > 0 ? options.queryPreAttnScalar() : headDim;
        return new AttentionOptions(numAttentionHeads, numKeyValueHeads, headDim, 1.0 / Math.sqrt(s), attentionDropout,
                0, options.rotary(index));
    }

    /** The rotary parameters of layers of {@code type}. */
    public RopeParameters rope(LayerType type) {
        return type == LayerType.SLIDING_ATTENTION && options.slidingRope() != null ? options.slidingRope() : rope;
    }

    public boolean hasLayerType(LayerType type) {
        return layerTypes.contains(type);
    }

    @Override
    public int hiddenSize() {
        return hiddenSize;
    }

    @Override
    public int numLayers() {
        return numHiddenLayers;
    }

    @Override
    public int numHeads() {
        return numAttentionHeads;
    }

    /**
     * The longest sequence accepted: max_position_embeddings, or factor times it with dynamic NTK
     * scaling, whose whole point is to run past the pretrained length.
     */
    @Override
    public int maxPositions() {
        return rope.type() == RopeType.DYNAMIC ? (int) Math.floor(rope.factor() * maxPositionEmbeddings)
                : maxPositionEmbeddings;
    }

    @Override
    public long embeddingParameters() {
        return (long) vocabSize * hiddenSize;
    }

    private static List<String> problems(int hidden, int intermediate, int layers, int heads, int kvHeads, int headDim,
                                         double eps, int vocab, int maxPos, float dropout) {
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
        if (!(dropout >= 0 && dropout < 1)) {
            p.add("attention_dropout = " + dropout + " must be in [0, 1)");
        }
        return p;
    }

    private static void positive(List<String> p, String field, int value) {
        if (value <= 0) {
            p.add(field + " = " + value + " must be > 0");
        }
    }
}
