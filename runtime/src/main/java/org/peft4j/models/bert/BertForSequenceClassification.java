package org.peft4j.models.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.peft4j.models.core.BertConfig;
import org.peft4j.models.core.Pooling;
import org.peft4j.models.core.SequenceClassifier;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * BERT with a linear classifier on the mean of the real tokens' hidden states. Children:
 * {@code bert}, {@code dropout}, {@code classifier}. Mean pooling rather than HF's CLS pooler on
 * purpose: MiniLM was trained as a mean-pooled sentence encoder, so its mean is the meaningful vector.
 */
public final class BertForSequenceClassification extends Module implements SequenceClassifier {

    private final int numLabels;

    /** A model with placeholder weights. */
    public BertForSequenceClassification(NDManager manager, BertConfig config, int numLabels) {
        if (numLabels < 1) {
            throw new IllegalArgumentException("numLabels = " + numLabels + " must be >= 1");
        }
        this.numLabels = numLabels;
        addChild("bert", new BertModel(manager, config));
        addChild("dropout", new Dropout((float) config.hiddenDropoutProb()));
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
     * Loads the encoder from a Hugging Face directory (plain or {@code bert.}-prefixed names). The
     * classifier comes from the checkpoint when it has {@code classifier.*} tensors; otherwise it
     * starts as Normal(0, initializer_range) weights drawn from {@code seed} and a zero bias.
     */
    public static BertForSequenceClassification fromPretrained(Path dir, int numLabels, long seed) throws IOException {
        return (BertForSequenceClassification) BertFamily.INSTANCE.load(dir, Task.sequenceClassification(numLabels, seed));
    }

    /**
     * Draws the weights in Java from {@code seed}, so the start is the same on every device and
     * does not depend on, or disturb, libtorch's global generator.
     */
    void initClassifier(NDManager manager, double std, long seed) {
        Linear classifier = (Linear) child("classifier");
        Shape shape = classifier.weight().value().getShape();
        Random random = new Random(seed);
        float[] w = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * std);
        }
        classifier.weight().set(manager.create(w, shape));
        classifier.bias().set(manager.zeros(classifier.bias().value().getShape()));
    }

    /**
     * The pooled sentence vector.
     *
     * @return (B, H)
     */
    public NDArray embed(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        NDArray hidden = bert().forward(inputIds, attentionMask, tokenTypeIds);   // (B, T, H)
        return Pooling.meanPool(hidden, attentionMask);                          // (B, H)
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        NDArray pooled = embed(inputIds, attentionMask, tokenTypeIds);           // (B, H)
        pooled = ((Dropout) child("dropout")).forward(pooled);
        return linear("classifier").forward(pooled);                             // (B, numLabels)
    }
}
