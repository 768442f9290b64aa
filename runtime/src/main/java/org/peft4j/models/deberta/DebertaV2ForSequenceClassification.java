package org.peft4j.models.deberta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.HeadInit;
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
 * Hugging Face's {@code DebertaV2ForSequenceClassification}: the encoder ({@code deberta}), its
 * {@code pooler} ({@link ContextPooler}), {@code dropout} ({@code cls_dropout}, else hidden_dropout_prob)
 * and {@code classifier}.
 */
public final class DebertaV2ForSequenceClassification extends Module implements SequenceClassifier {

    private final DebertaV2Config config;
    private final int numLabels;

    /** A model with placeholder weights. */
    public DebertaV2ForSequenceClassification(NDManager manager, DebertaV2Config config, int numLabels) {
        if (numLabels < 1) {
            throw new IllegalArgumentException("numLabels = " + numLabels + " must be >= 1");
        }
        this.config = config;
        this.numLabels = numLabels;
        addChild("deberta", new DebertaV2Model(manager, config));
        addChild("pooler", new ContextPooler(manager, config));
        addChild("classifier", new Linear(manager, config.hiddenSize(), numLabels, true));
        addChild("dropout", new Dropout((float) config.clsDropout()));
    }

    /**
     * Loads a Hugging Face directory: a classifier's checkpoint whole, or an encoder's (DebertaV2Model,
     * or a masked-LM checkpoint) with a new pooler and classifier drawn from {@code seed}.
     */
    public static DebertaV2ForSequenceClassification fromPretrained(Path dir, int numLabels, long seed)
            throws IOException {
        return (DebertaV2ForSequenceClassification) DebertaV2Family.INSTANCE.load(dir,
                Task.sequenceClassification(numLabels, seed));
    }

    public DebertaV2Model deberta() {
        return (DebertaV2Model) child("deberta");
    }

    @Override
    public int numLabels() {
        return numLabels;
    }

    /** Draws the head parts the checkpoint lacked as Transformers does: N(0, initializer_range²) weights, zero biases. */
    void initHead(List<String> notLoaded, NDManager manager, long seed) {
        Random random = new Random(seed);
        if (notLoaded.stream().anyMatch(p -> p.startsWith("pooler."))) {
            HeadInit.linear(((ContextPooler) child("pooler")).dense(), config.initializerRange(), 0, random, manager);
        }
        if (notLoaded.stream().anyMatch(p -> p.startsWith("classifier."))) {
            HeadInit.linear((Linear) child("classifier"), config.initializerRange(), 0, random, manager);
        }
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        NDArray hidden = deberta().forward(inputIds, attentionMask, tokenTypeIds);           // (B, T, H)
        NDArray pooled = ((Dropout) child("dropout")).forward(((ContextPooler) child("pooler")).forward(hidden));
        return linear("classifier").forward(pooled);                                         // (B, numLabels)
    }
}
