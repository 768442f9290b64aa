package org.peft4j.models.deberta;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.models.core.Activation;
import org.peft4j.models.core.CommonFields;
import org.peft4j.models.core.ConfigChecks;
import org.peft4j.models.core.ConfigFields;
import org.peft4j.models.core.ModelConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The shape of a DeBERTa-v2 / DeBERTa-v3 encoder (He et al. 2021) as in its {@code config.json}, with
 * the defaults of Transformers' {@code DebertaV2Config}. Every instance is valid.
 *
 * @param common                    the fields every config carries
 * @param hiddenSize                H
 * @param numHiddenLayers           number of layers
 * @param numAttentionHeads         nh
 * @param attentionHeadSize         d, the width of one head (H / nh unless {@code attention_head_size} says)
 * @param intermediateSize          width of the feed-forward layer
 * @param hiddenAct                 the feed-forward activation
 * @param vocabSize                 rows of the word embedding
 * @param embeddingSize             width of the embeddings; projected to H ({@code embed_proj}) when it differs
 * @param maxPositionEmbeddings     the longest input
 * @param typeVocabSize             rows of the token-type embedding; 0 for none (DeBERTa-v3)
 * @param positionBiasedInput       whether absolute position embeddings are added to the input
 * @param layerNormEps              ε of every LayerNorm
 * @param hiddenDropoutProb         dropout on embeddings, sub-layer outputs and relative embeddings
 * @param attentionProbsDropoutProb dropout on attention probabilities
 * @param initializerRange          σ of freshly initialised weights
 * @param relativeAttention         whether the disentangled position terms are used
 * @param maxRelativePositions      k, the relative distance the buckets reach (max_position_embeddings when &lt; 1)
 * @param positionBuckets           the number of log buckets per direction, or &lt;= 0 for exact distances
 * @param positionAttention         which position terms ({@code pos_att_type}) are added
 * @param shareAttKey               the content projections also project the relative embeddings
 * @param normRelEmbeddings         the relative embeddings pass through {@code encoder.LayerNorm}
 * @param poolerHiddenAct           the ContextPooler's activation
 * @param poolerDropout             the ContextPooler's dropout
 * @param clsDropout                dropout before the classifier
 */
public record DebertaV2Config(
        CommonFields common,
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int attentionHeadSize,
        int intermediateSize,
        Activation hiddenAct,
        int vocabSize,
        int embeddingSize,
        int maxPositionEmbeddings,
        int typeVocabSize,
        boolean positionBiasedInput,
        double layerNormEps,
        double hiddenDropoutProb,
        double attentionProbsDropoutProb,
        double initializerRange,
        boolean relativeAttention,
        int maxRelativePositions,
        int positionBuckets,
        Set<PositionAttention> positionAttention,
        boolean shareAttKey,
        boolean normRelEmbeddings,
        Activation poolerHiddenAct,
        double poolerDropout,
        double clsDropout) implements ModelConfig {

    public DebertaV2Config {
        positionAttention = Set.copyOf(positionAttention);
        List<String> p = problems(hiddenSize, numHiddenLayers, numAttentionHeads, attentionHeadSize, intermediateSize,
                vocabSize, embeddingSize, maxPositionEmbeddings, typeVocabSize, layerNormEps, hiddenDropoutProb,
                attentionProbsDropoutProb, poolerDropout, clsDropout, initializerRange);
        if (common == null || hiddenAct == null || poolerHiddenAct == null) {
            p.add("common and the activations must be given");
        }
        ConfigChecks.throwIfAny(p);
    }

    /** nh · d, the width of the attention's projections. */
    public int allHeadSize() {
        return numAttentionHeads * attentionHeadSize;
    }

    /** The relative distance the position terms cover: max_relative_positions, or max_position_embeddings below 1. */
    public int maxRelativeDistance() {
        return maxRelativePositions < 1 ? maxPositionEmbeddings : maxRelativePositions;
    }

    /** The span of relative positions: the bucket count, else the maximum relative distance; the table has twice as many rows. */
    public int attentionSpan() {
        return positionBuckets > 0 ? positionBuckets : maxRelativeDistance();
    }

    /**
     * The content and position scores are all divided by √(d · (1 + the number of position terms)), as
     * Transformers counts them from {@code pos_att_type} whether or not relative attention is on.
     */
    public int scaleFactor() {
        return 1 + positionAttention.size();
    }

    /**
     * Reads a {@code config.json} of model_type "deberta-v2" (DeBERTa-v2 and -v3). Fields that change
     * the math and are not supported (the v2-xlarge convolution) are refused; every problem is
     * reported at once, naming the file.
     */
    public static DebertaV2Config read(Path file) throws IOException {
        ConfigFields f = ConfigFields.read(file, "DeBERTa-v2");
        CommonFields common = CommonFields.read(f, "deberta-v2");
        if (!"deberta-v2".equals(common.modelType())) {
            f.problem("model_type = '" + common.modelType() + "' is not supported by this loader; valid: 'deberta-v2'");
        }
        int hidden = f.integer("hidden_size", null);
        int layers = f.integer("num_hidden_layers", null);
        int heads = f.integer("num_attention_heads", null);
        int headSize = f.integer("attention_head_size", heads > 0 ? hidden / heads : 0);
        int intermediate = f.integer("intermediate_size", null);
        int vocab = f.integer("vocab_size", null);
        int embedding = f.integer("embedding_size", hidden);
        int maxPos = f.integer("max_position_embeddings", 512);
        int typeVocab = f.integer("type_vocab_size", 0);
        Activation act = Activation.read(f, "hidden_act", Activation.GELU);
        Activation poolerAct = Activation.read(f, "pooler_hidden_act", Activation.GELU);
        int conv = f.integer("conv_kernel_size", 0);
        if (conv > 0) {
            f.problem("conv_kernel_size = " + conv + " is not supported (DeBERTa-v2's convolution after the first"
                    + " layer); valid: 0 or absent, as in DeBERTa-v3");
        }
        int poolerHidden = f.integer("pooler_hidden_size", hidden);
        if (poolerHidden != hidden) {
            f.problem("pooler_hidden_size = " + poolerHidden + " must equal hidden_size = " + hidden
                    + " (the ContextPooler reads and writes the first token's hidden state)");
        }
        String norm = f.string("norm_rel_ebd", "none");
        List<String> norms = List.of(norm.toLowerCase(java.util.Locale.ROOT).split("\\|")).stream().map(String::strip)
                .toList();
        if (!norms.stream().allMatch(n -> n.equals("none") || n.equals("layer_norm"))) {
            f.problem("norm_rel_ebd = '" + norm + "' is not supported; valid: 'none', 'layer_norm'");
        }
        Set<PositionAttention> terms = positionAttention(f);
        double eps = f.number("layer_norm_eps", 1e-7);
        double hiddenDrop = f.number("hidden_dropout_prob", 0.1);
        double attnDrop = f.number("attention_probs_dropout_prob", 0.1);
        double poolerDrop = f.number("pooler_dropout", 0.0);
        double clsDrop = f.number("cls_dropout", hiddenDrop);
        double initRange = f.number("initializer_range", 0.02);
        f.throwIfAny(f.hasProblems() ? List.of() : problems(hidden, layers, heads, headSize, intermediate, vocab,
                embedding, maxPos, typeVocab, eps, hiddenDrop, attnDrop, poolerDrop, clsDrop, initRange));
        return new DebertaV2Config(common, hidden, layers, heads, headSize, intermediate, act, vocab, embedding, maxPos,
                typeVocab, f.bool("position_biased_input", true), eps, hiddenDrop, attnDrop, initRange,
                f.bool("relative_attention", false), f.integer("max_relative_positions", -1),
                f.integer("position_buckets", -1), terms, f.bool("share_att_key", false),
                norms.contains("layer_norm"), poolerAct, poolerDrop, clsDrop);
    }

    /** {@code pos_att_type}: a list, or 4.x's "p2c|c2p"; absent means none. */
    private static Set<PositionAttention> positionAttention(ConfigFields f) {
        JsonNode n = f.root().get("pos_att_type");
        List<String> names = new ArrayList<>();
        if (n != null && n.isTextual()) {
            names.addAll(List.of(n.textValue().split("\\|")));
        } else if (n != null && n.isArray()) {
            n.forEach(e -> names.add(e.asText()));
        } else if (n != null && !n.isNull()) {
            f.problem("pos_att_type = " + n + " must be a list such as [\"p2c\", \"c2p\"] or a string such as \"p2c|c2p\"");
        }
        Set<PositionAttention> terms = EnumSet.noneOf(PositionAttention.class);
        for (String name : names) {
            PositionAttention t = PositionAttention.named(name);
            if (t == null) {
                f.problem("pos_att_type entry '" + name + "' is not supported; valid: '"
                        + String.join("', '", PositionAttention.names()) + "'");
            } else {
                terms.add(t);
            }
        }
        return terms;
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
        long positions = positionBiasedInput ? maxPositionEmbeddings : 0;
        long relative = relativeAttention ? 2L * attentionSpan() : 0;
        return (long) embeddingSize * (vocabSize + positions + typeVocabSize) + (long) hiddenSize * relative;
    }

    private static List<String> problems(int hidden, int layers, int heads, int headSize, int intermediate, int vocab,
                                         int embedding, int maxPos, int typeVocab, double eps, double hiddenDrop,
                                         double attnDrop, double poolerDrop, double clsDrop, double initRange) {
        List<String> p = new ArrayList<>();
        ConfigChecks.positive(p, "hidden_size", hidden);
        ConfigChecks.positive(p, "num_hidden_layers", layers);
        ConfigChecks.positive(p, "num_attention_heads", heads);
        ConfigChecks.positive(p, "attention_head_size", headSize);
        if (hidden > 0 && heads > 0 && hidden % heads != 0) {
            p.add("hidden_size = " + hidden + " is not divisible by num_attention_heads = " + heads);
        }
        ConfigChecks.positive(p, "intermediate_size", intermediate);
        ConfigChecks.positive(p, "vocab_size", vocab);
        ConfigChecks.positive(p, "embedding_size", embedding);
        ConfigChecks.positive(p, "max_position_embeddings", maxPos);
        if (typeVocab < 0) {
            p.add("type_vocab_size = " + typeVocab + " must be >= 0");
        }
        ConfigChecks.positive(p, "layer_norm_eps", eps);
        ConfigChecks.probability(p, "hidden_dropout_prob", hiddenDrop);
        ConfigChecks.probability(p, "attention_probs_dropout_prob", attnDrop);
        ConfigChecks.probability(p, "pooler_dropout", poolerDrop);
        ConfigChecks.probability(p, "cls_dropout", clsDrop);
        ConfigChecks.positive(p, "initializer_range", initRange);
        return p;
    }
}
