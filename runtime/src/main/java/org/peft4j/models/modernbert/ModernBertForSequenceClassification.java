package org.peft4j.models.modernbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import org.peft4j.models.core.HeadInit;
import org.peft4j.models.core.Pooling;
import org.peft4j.models.core.SequenceClassifier;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Hugging Face's {@code ModernBertForSequenceClassification}: the encoder ({@code model}), pooled as
 * {@code classifier_pooling} says (the first token, or the mean over real tokens), then
 * {@code head} (dense, activation, LayerNorm), {@code drop} and {@code classifier}.
 */
public final class ModernBertForSequenceClassification extends Module implements SequenceClassifier {

    private final ModernBertConfig config;
    private final int numLabels;

    /** A model with placeholder weights. */
    public ModernBertForSequenceClassification(NDManager manager, ModernBertConfig config, int numLabels) {
        if (numLabels < 1) {
            throw new IllegalArgumentException("numLabels = " + numLabels + " must be >= 1");
        }
        this.config = config;
        this.numLabels = numLabels;
        addChild("model", new ModernBertModel(manager, config));
        addChild("head", new ModernBertPredictionHead(manager, config));
        addChild("drop", new Dropout((float) config.classifierDropout()));
        addChild("classifier", new Linear(manager, config.hiddenSize(), numLabels, true));
    }

    /**
     * Loads a Hugging Face directory: a classifier's checkpoint whole, or an encoder's (ModernBertModel,
     * or ModernBertForMaskedLM, whose {@code head} is kept as Transformers keeps it) with a new head
     * drawn from {@code seed}.
     */
    public static ModernBertForSequenceClassification fromPretrained(Path dir, int numLabels, long seed)
            throws IOException {
        return (ModernBertForSequenceClassification) ModernBertFamily.INSTANCE.load(dir,
                Task.sequenceClassification(numLabels, seed));
    }

    public ModernBertModel model() {
        return (ModernBertModel) child("model");
    }

    @Override
    public int numLabels() {
        return numLabels;
    }

    /**
     * Draws the parts of the head the checkpoint lacked, as Transformers initialises them: truncated
     * normals at ±initializer_cutoff_factor σ, σ = initializer_range / √(2 · layers) for the head's
     * dense layer and 1 / √H for the classifier; biases zero, the norm at identity.
     */
    void initHead(List<String> notLoaded, NDManager manager, long seed) {
        Random random = new Random(seed);
        double cutoff = config.initializerCutoff();
        if (notLoaded.stream().anyMatch(p -> p.startsWith("head."))) {
            double std = config.initializerRange() / Math.sqrt(2.0 * config.numHiddenLayers());
            HeadInit.linear(((ModernBertPredictionHead) child("head")).dense(), std, cutoff, random, manager);
        }
        if (notLoaded.stream().anyMatch(p -> p.startsWith("classifier."))) {
            HeadInit.linear((Linear) child("classifier"), 1 / Math.sqrt(config.hiddenSize()), cutoff, random, manager);
        }
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        NDArray hidden = model().forward(inputIds, attentionMask, tokenTypeIds);             // (B, T, H)
        NDArray pooled = config.classifierPooling() == ClassifierPooling.CLS
                ? hidden.get(new NDIndex(":, 0, :"))                                            // (B, H)
                : Pooling.meanPool(hidden, attentionMask);                                      // (B, H)
        pooled = ((Dropout) child("drop")).forward(((ModernBertPredictionHead) child("head")).forward(pooled));
        return linear("classifier").forward(pooled);                                          // (B, numLabels)
    }
}
