package org.peft4j.models.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.BertConfig;
import org.peft4j.models.core.SequenceClassifier;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Transformers' {@code BertForSequenceClassification}: h[CLS] → pooler (dense, tanh) → dropout →
 * classifier. Children {@code bert} (with its {@code pooler}), {@code dropout}, {@code classifier}, so
 * parameter paths are the names Transformers saves.
 */
public final class BertForSequenceClassification extends Module implements SequenceClassifier {

    private final int numLabels;

    /** A model with placeholder weights. */
    public BertForSequenceClassification(NDManager manager, BertConfig config, int numLabels) {
        if (numLabels < 1) {
            throw new IllegalArgumentException("numLabels = " + numLabels + " must be >= 1");
        }
        this.numLabels = numLabels;
        addChild("bert", new BertModel(manager, config, true));
        addChild("dropout", new Dropout((float) config.classifierDropout()));
        addChild("classifier", new Linear(manager, config.hiddenSize(), numLabels, true));
    }

    public BertModel bert() {
        return (BertModel) child("bert");
    }

    @Override
    public int numLabels() {
        return numLabels;
    }

    /**
     * Loads a Hugging Face directory (plain or {@code bert.}-prefixed names). The pooler and the
     * classifier come from the checkpoint when it has them; a part it lacks starts as
     * Normal(0, initializer_range) weights drawn from {@code seed} and a zero bias, as Transformers
     * initialises it.
     */
    public static BertForSequenceClassification fromPretrained(Path dir, int numLabels, long seed) throws IOException {
        return (BertForSequenceClassification) BertFamily.INSTANCE.load(dir, Task.sequenceClassification(numLabels, seed));
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        NDArray hidden = bert().forward(inputIds, attentionMask, tokenTypeIds);   // (B, T, H)
        NDArray pooled = bert().pooled(hidden);                                   // (B, H)
        pooled = ((Dropout) child("dropout")).forward(pooled);
        return linear("classifier").forward(pooled);                             // (B, numLabels)
    }
}
