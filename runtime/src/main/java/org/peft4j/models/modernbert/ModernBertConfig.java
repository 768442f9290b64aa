package org.peft4j.models.modernbert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.peft4j.models.core.Activation;
import org.peft4j.models.core.CommonFields;
import org.peft4j.models.core.ConfigChecks;
import org.peft4j.models.core.ConfigFields;
import org.peft4j.models.core.LayerType;
import org.peft4j.models.core.ModelConfig;
import org.peft4j.models.core.RopeParameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape of a ModernBERT encoder (Warner et al. 2024) as in its {@code config.json}, with the
 * defaults of Transformers' {@code ModernBertConfig}. Every instance is valid.
 *
 * @param common                the fields every config carries
 * @param hiddenSize            H
 * @param intermediateSize      I, the width of one half of the gated MLP ({@code Wi} is H -> 2I)
 * @param numHiddenLayers       number of layers
 * @param numAttentionHeads     nh; H must be a multiple of it
 * @param hiddenActivation      the MLP's activation ({@code hidden_activation})
 * @param vocabSize             rows of the token embedding
 * @param maxPositionEmbeddings the longest input
 * @param normEps               ε of every LayerNorm
 * @param normBias              whether the LayerNorms have a shift
 * @param attentionBias         biases on {@code Wqkv} and {@code attn.Wo}
 * @param mlpBias               biases on {@code Wi} and {@code mlp.Wo}
 * @param attentionDropout      dropout on the attention probabilities and the attention output
 * @param embeddingDropout      dropout after the embedding norm
 * @param mlpDropout            dropout inside the MLP
 * @param localAttention        the local layers' whole window; a query sees local_attention / 2 keys each side
 * @param layerTypes            each layer's attention: full (global) or sliding (local)
 * @param globalRope            the rotary parameters of full-attention layers
 * @param localRope             the rotary parameters of sliding-attention layers
 * @param classifierPooling     how the classifier pools the token states
 * @param classifierActivation  the classification head's activation
 * @param classifierBias        a bias on the head's dense layer
 * @param classifierDropout     dropout before the classifier
 * @param initializerRange      σ of freshly initialised weights
 * @param initializerCutoff     new weights are truncated at ± this many σ
 */
public record ModernBertConfig(
        CommonFields common,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        Activation hiddenActivation,
        int vocabSize,
        int maxPositionEmbeddings,
        double normEps,
        boolean normBias,
        boolean attentionBias,
        boolean mlpBias,
        double attentionDropout,
        double embeddingDropout,
        double mlpDropout,
        int localAttention,
        List<LayerType> layerTypes,
        RopeParameters globalRope,
        RopeParameters localRope,
        ClassifierPooling classifierPooling,
        Activation classifierActivation,
        boolean classifierBias,
        double classifierDropout,
        double initializerRange,
        double initializerCutoff) implements ModelConfig {

    /** Transformers' default rotary bases: 160000 for global layers, 10000 for local ones. */
    static final double GLOBAL_THETA = 160_000.0;
    static final double LOCAL_THETA = 10_000.0;

    public ModernBertConfig {
        layerTypes = List.copyOf(layerTypes);
        List<String> p = problems(hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, vocabSize,
                maxPositionEmbeddings, normEps, attentionDropout, embeddingDropout, mlpDropout, classifierDropout,
                localAttention, layerTypes, initializerRange);
        if (common == null || hiddenActivation == null || classifierActivation == null || classifierPooling == null
                || globalRope == null || localRope == null) {
            p.add("common, the activations, the pooling and both rotary parameters must be given");
        }
        ConfigChecks.throwIfAny(p);
    }

    /** hs, the width of one head. */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** How far a local layer's query sees on either side: {@code local_attention // 2}, as Transformers. */
    public int halfWindow() {
        return localAttention / 2;
    }

    /**
     * Reads a {@code config.json} of model_type "modernbert": Transformers 5's {@code layer_types} and
     * {@code rope_parameters} per layer type, or 4.x's {@code global_attn_every_n_layers},
     * {@code global_rope_theta} and {@code local_rope_theta}. Every problem is reported at once, naming the file.
     */
    public static ModernBertConfig read(Path file) throws IOException {
        ConfigFields f = ConfigFields.read(file, "ModernBERT");
        CommonFields common = CommonFields.read(f, "modernbert");
        if (!"modernbert".equals(common.modelType())) {
            f.problem("model_type = '" + common.modelType() + "' is not supported by this loader; valid: 'modernbert'");
        }
        int hidden = f.integer("hidden_size", null);
        int intermediate = f.integer("intermediate_size", null);
        int layers = f.integer("num_hidden_layers", null);
        int heads = f.integer("num_attention_heads", null);
        int vocab = f.integer("vocab_size", null);
        int maxPos = f.integer("max_position_embeddings", 8192);
        Activation act = Activation.read(f, "hidden_activation", Activation.GELU);
        Activation classifierAct = Activation.read(f, "classifier_activation", Activation.GELU);
        String poolingName = f.string("classifier_pooling", "cls");
        ClassifierPooling pooling = ClassifierPooling.named(poolingName);
        if (pooling == null) {
            f.problem("classifier_pooling = '" + poolingName + "' is not supported; valid: '"
                    + String.join("', '", ClassifierPooling.names()) + "'");
        }
        List<LayerType> types = layerTypes(f, layers);
        RopeParameters global = rope(f, "full_attention", "global_rope_theta", GLOBAL_THETA, maxPos);
        RopeParameters local = rope(f, "sliding_attention", "local_rope_theta", LOCAL_THETA, maxPos);
        double eps = f.number("norm_eps", 1e-5);
        double attnDrop = f.number("attention_dropout", 0.0);
        double embDrop = f.number("embedding_dropout", 0.0);
        double mlpDrop = f.number("mlp_dropout", 0.0);
        double clsDrop = f.number("classifier_dropout", 0.0);
        int window = f.integer("local_attention", 128);
        double initRange = f.number("initializer_range", 0.02);
        f.throwIfAny(f.hasProblems() ? List.of() : problems(hidden, intermediate, layers, heads, vocab, maxPos, eps,
                attnDrop, embDrop, mlpDrop, clsDrop, window, types, initRange));
        return new ModernBertConfig(common, hidden, intermediate, layers, heads, act, vocab, maxPos, eps,
                f.bool("norm_bias", false), f.bool("attention_bias", false), f.bool("mlp_bias", false), attnDrop,
                embDrop, mlpDrop, window, types, global, local, pooling, classifierAct,
                f.bool("classifier_bias", false), clsDrop, initRange, f.number("initializer_cutoff_factor", 2.0));
    }

    /** {@code layer_types} as written, else full attention every {@code global_attn_every_n_layers} from layer 0. */
    private static List<LayerType> layerTypes(ConfigFields f, int layers) {
        List<String> names = f.strings("layer_types");
        List<LayerType> types = new ArrayList<>();
        if (names == null) {
            int every = f.integer("global_attn_every_n_layers", 3);
            if (every <= 0) {
                f.problem("global_attn_every_n_layers = " + every + " must be > 0");
                return types;
            }
            for (int i = 0; i < layers; i++) {
                types.add(i % every == 0 ? LayerType.FULL_ATTENTION : LayerType.SLIDING_ATTENTION);
            }
            return types;
        }
        for (int i = 0; i < names.size(); i++) {
            LayerType type = LayerType.named(names.get(i));
            if (type == null) {
                f.problem("layer_types[" + i + "] = '" + names.get(i) + "' is not supported; valid: '"
                        + String.join("', '", LayerType.names()) + "'");
            }
            types.add(type);
        }
        return types;
    }

    /**
     * The rotary parameters of one layer type: {@code rope_parameters.<type>} (Transformers 5), else
     * 4.x's {@code rope_scaling} (shared by both types) with the type's top-level theta, else the
     * default with that theta.
     */
    private static RopeParameters rope(ConfigFields f, String type, String thetaField, double theta, int maxPos) {
        JsonNode root = f.root();
        double base = f.number(thetaField, theta);
        JsonNode perType = root.path("rope_parameters").path(type);
        if (perType.isObject()) {
            return RopeParameters.read(f, "rope_parameters." + type, perType, base, maxPos);
        }
        JsonNode scaling = root.get("rope_scaling");
        if (scaling != null && scaling.isObject() && !scaling.isEmpty()) {
            return RopeParameters.read(f, "rope_scaling", scaling, base, maxPos);
        }
        return RopeParameters.read(f, "rope_parameters." + type, JsonNodeFactory.instance.objectNode(), base, maxPos);
    }

    @Override
    public int numLayers() {
        return numHiddenLayers;
    }

    @Override
    public int numHeads() {
        return numAttentionHeads;
    }

    @Override
    public int maxPositions() {
        return maxPositionEmbeddings;
    }

    @Override
    public long embeddingParameters() {
        return (long) hiddenSize * vocabSize;
    }

    private static List<String> problems(int hidden, int intermediate, int layers, int heads, int vocab, int maxPos,
                                         double eps, double attnDrop, double embDrop, double mlpDrop, double clsDrop,
                                         int local, List<LayerType> types, double initRange) {
        List<String> p = new ArrayList<>();
        ConfigChecks.positive(p, "hidden_size", hidden);
        ConfigChecks.positive(p, "intermediate_size", intermediate);
        ConfigChecks.positive(p, "num_hidden_layers", layers);
        ConfigChecks.positive(p, "num_attention_heads", heads);
        ConfigChecks.positive(p, "vocab_size", vocab);
        ConfigChecks.positive(p, "max_position_embeddings", maxPos);
        ConfigChecks.positive(p, "local_attention", local);
        if (hidden > 0 && heads > 0 && (hidden % heads != 0 || (hidden / heads) % 2 != 0)) {
            p.add("hidden_size = " + hidden + " must split into num_attention_heads = " + heads
                    + " heads of an even width (rotary embeddings rotate pairs of features)");
        }
        if (types.size() != layers) {
            p.add("layer_types has " + types.size() + " entries for num_hidden_layers = " + layers
                    + "; give one per layer");
        }
        ConfigChecks.positive(p, "norm_eps", eps);
        ConfigChecks.probability(p, "attention_dropout", attnDrop);
        ConfigChecks.probability(p, "embedding_dropout", embDrop);
        ConfigChecks.probability(p, "mlp_dropout", mlpDrop);
        ConfigChecks.probability(p, "classifier_dropout", clsDrop);
        ConfigChecks.positive(p, "initializer_range", initRange);
        return p;
    }
}
