package org.peft4j.models.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.peft4j.io.SafeTensors;
import org.peft4j.models.Pooling;
import org.peft4j.models.WeightLoader;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Backend;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * BERT with a linear classifier on the mean of the real tokens' hidden states. Children:
 * {@code bert}, {@code dropout}, {@code classifier}. Mean pooling rather than HF's CLS pooler on
 * purpose: MiniLM was trained as a mean-pooled sentence encoder, so its mean is the meaningful vector.
 */
public final class BertForSequenceClassification extends Module {

    private final int numLabels;

    /** A model with placeholder weights; see {@link #fromPretrained}. */
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

    public int numLabels() {
        return numLabels;
    }

    /**
     * Loads the encoder from a Hugging Face directory (plain or {@code bert.}-prefixed names). The
     * classifier comes from the checkpoint when it has {@code classifier.*} tensors; otherwise it
     * starts as Normal(0, initializer_range) weights drawn from {@code seed} and a zero bias.
     */
    public static BertForSequenceClassification fromPretrained(Path dir, int numLabels, long seed) throws IOException {
        BertConfig config = BertConfig.read(WeightLoader.requireFile(dir, "config.json", "the model configuration"));
        Path weights = WeightLoader.requireFile(dir, "model.safetensors", "the weights (model.safetensors)");
        NDManager manager = Backend.get().manager();
        BertForSequenceClassification model = new BertForSequenceClassification(manager, config, numLabels);

        boolean hasHead = SafeTensors.header(weights).keySet().stream().anyMatch(n -> n.startsWith("classifier."));
        WeightLoader.load(model, weights,
                name -> name.startsWith("classifier.") ? name : BertModel.checkpointToPath(name, "bert."),
                path -> !hasHead && path.startsWith("classifier."), manager);
        if (!hasHead) {
            model.initClassifier(manager, config.initializerRange(), seed);
        }
        return model;
    }

    /**
     * Draws the weights in Java from {@code seed}, so the start is the same on every device and
     * does not depend on, or disturb, libtorch's global generator.
     */
    private void initClassifier(NDManager manager, double std, long seed) {
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

    /**
     * @param inputIds      (B, T) token ids
     * @param attentionMask (B, T), 1 for real tokens and 0 for padding; null when nothing is padded
     * @param tokenTypeIds  (B, T) segment ids, or null for all zeros
     * @return (B, numLabels) logits
     */
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        NDArray pooled = embed(inputIds, attentionMask, tokenTypeIds);           // (B, H)
        pooled = ((Dropout) child("dropout")).forward(pooled);
        return linear("classifier").forward(pooled);                             // (B, numLabels)
    }
}
