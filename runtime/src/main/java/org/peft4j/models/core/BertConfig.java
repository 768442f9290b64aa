package org.peft4j.models.core;

import org.peft4j.config.ConfigException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape of an encoder in BERT's layout (BERT, RoBERTa, XLM-RoBERTa), as in a Hugging Face
 * {@code config.json}. Every instance is valid: the constructor checks all fields and reports every
 * problem at once.
 *
 * @param hiddenSize                 H, the width of the residual stream
 * @param numHiddenLayers            number of encoder layers
 * @param numAttentionHeads          nh; H must be a multiple of it
 * @param intermediateSize           width of the feed-forward layer
 * @param hiddenAct                  the feed-forward activation; only {@code "gelu"} (exact, erf) is supported
 * @param vocabSize                  rows of the word embedding
 * @param maxPositionEmbeddings      longest sequence the position embedding covers
 * @param typeVocabSize              rows of the token-type (segment) embedding
 * @param layerNormEps               epsilon of every LayerNorm
 * @param hiddenDropoutProb          dropout on embeddings and sub-layer outputs
 * @param attentionProbsDropoutProb  dropout on attention probabilities
 * @param initializerRange           std of the Normal used for freshly initialised weights
 * @param padTokenId                 id of the padding token
 * @param common                     the fields every config carries
 * @param classifierDropout          dropout of a classification head: classifier_dropout, else
 *                                   hidden_dropout_prob (as Transformers' heads take it)
 */
public record BertConfig(
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int intermediateSize,
        String hiddenAct,
        int vocabSize,
        int maxPositionEmbeddings,
        int typeVocabSize,
        double layerNormEps,
        double hiddenDropoutProb,
        double attentionProbsDropoutProb,
        double initializerRange,
        int padTokenId,
        CommonFields common,
        double classifierDropout) implements ModelConfig {

    public BertConfig {
        List<String> p = problems(hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize,
                hiddenAct, vocabSize, maxPositionEmbeddings, typeVocabSize, layerNormEps, hiddenDropoutProb,
                attentionProbsDropoutProb, initializerRange, padTokenId);
        probability(p, "classifier_dropout", classifierDropout);
        ConfigException.throwIfAny(p);
    }

    /** The config with the head's dropout equal to hidden_dropout_prob (classifier_dropout unset). */
    public BertConfig(int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize,
                      String hiddenAct, int vocabSize, int maxPositionEmbeddings, int typeVocabSize,
                      double layerNormEps, double hiddenDropoutProb, double attentionProbsDropoutProb,
                      double initializerRange, int padTokenId, CommonFields common) {
        this(hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct, vocabSize,
                maxPositionEmbeddings, typeVocabSize, layerNormEps, hiddenDropoutProb, attentionProbsDropoutProb,
                initializerRange, padTokenId, common, hiddenDropoutProb);
    }

    /** hs, the width of one attention head. */
    public int headSize() {
        return hiddenSize / numAttentionHeads;
    }

    /**
     * Reads a Hugging Face {@code config.json} of model_type "bert". Fields that BERT configs always
     * carry are required; the others default to the values of {@code transformers.BertConfig}.
     * Problems name the file.
     */
    public static BertConfig read(Path file) throws IOException {
        return read(file, List.of("bert"));
    }

    /**
     * Reads the config of an encoder with BERT's shape under one of {@code modelTypes} (RoBERTa's
     * family passes "roberta" and "xlm-roberta"); a missing {@code model_type} counts as the first.
     */
    public static BertConfig read(Path file, List<String> modelTypes) throws IOException {
        ConfigFields f = ConfigFields.read(file, "BERT");
        CommonFields common = CommonFields.read(f, modelTypes.get(0));
        // other families share config.json but differ in ways that would load silently and compute wrongly
        if (!modelTypes.contains(common.modelType())) {
            f.problem("model_type = '" + common.modelType() + "' is not supported by this loader; valid: '"
                    + String.join("', '", modelTypes) + "'");
        }
        String positions = f.string("position_embedding_type", "absolute");
        if (!positions.equals("absolute")) {
            f.problem("position_embedding_type = '" + positions + "' is not supported; valid: 'absolute'");
        }
        int hidden = f.integer("hidden_size", null);
        int layers = f.integer("num_hidden_layers", null);
        int heads = f.integer("num_attention_heads", null);
        int intermediate = f.integer("intermediate_size", null);
        int vocab = f.integer("vocab_size", null);
        String act = f.string("hidden_act", "gelu");
        int maxPos = f.integer("max_position_embeddings", 512);
        int typeVocab = f.integer("type_vocab_size", 2);
        double eps = f.number("layer_norm_eps", 1e-12);
        double hiddenDrop = f.number("hidden_dropout_prob", 0.1);
        double attnDrop = f.number("attention_probs_dropout_prob", 0.1);
        double initRange = f.number("initializer_range", 0.02);
        int pad = f.integer("pad_token_id", 0);
        double classifierDrop = f.number("classifier_dropout", hiddenDrop);
        List<String> more = f.hasProblems() ? List.of() : problems(hidden, layers, heads, intermediate, act, vocab,
                maxPos, typeVocab, eps, hiddenDrop, attnDrop, initRange, pad);
        if (!f.hasProblems()) {
            probability(more, "classifier_dropout", classifierDrop);
        }
        f.throwIfAny(more);
        return new BertConfig(hidden, layers, heads, intermediate, act, vocab, maxPos, typeVocab, eps,
                hiddenDrop, attnDrop, initRange, pad, common, classifierDrop);
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
        return (long) hiddenSize * (vocabSize + maxPositionEmbeddings + typeVocabSize);
    }

    private static List<String> problems(int hidden, int layers, int heads, int intermediate, String act, int vocab,
                                         int maxPos, int typeVocab, double eps, double hiddenDrop, double attnDrop,
                                         double initRange, int pad) {
        List<String> p = new ArrayList<>();
        positive(p, "hidden_size", hidden);
        positive(p, "num_hidden_layers", layers);
        positive(p, "num_attention_heads", heads);
        positive(p, "intermediate_size", intermediate);
        positive(p, "vocab_size", vocab);
        positive(p, "max_position_embeddings", maxPos);
        positive(p, "type_vocab_size", typeVocab);
        if (hidden > 0 && heads > 0 && hidden % heads != 0) {
            p.add("hidden_size = " + hidden + " is not divisible by num_attention_heads = " + heads
                    + "; each head takes hidden_size / num_attention_heads features");
        }
        if (!"gelu".equals(act)) {
            p.add("hidden_act = '" + act + "' is not supported; valid: 'gelu' (exact, erf-based, as in BERT and MiniLM)");
        }
        if (!(eps > 0)) {
            p.add("layer_norm_eps = " + eps + " must be > 0");
        }
        probability(p, "hidden_dropout_prob", hiddenDrop);
        probability(p, "attention_probs_dropout_prob", attnDrop);
        if (!(initRange > 0)) {
            p.add("initializer_range = " + initRange + " must be > 0");
        }
        if (pad < 0 || (vocab > 0 && pad >= vocab)) {
            p.add("pad_token_id = " + pad + " must be in [0, vocab_size = " + vocab + ")");
        }
        return p;
    }

    private static void positive(List<String> p, String field, int value) {
        if (value <= 0) {
            p.add(field + " = " + value + " must be > 0");
        }
    }

    private static void probability(List<String> p, String field, double value) {
        if (!(value >= 0 && value < 1)) {
            p.add(field + " = " + value + " must be in [0, 1)");
        }
    }
}
