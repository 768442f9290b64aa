package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

/**
 * An encoder with a linear classifier on the mean of the real tokens' states
 * ({@link ClassifierHead#MEAN}): the vector a mean-pooled sentence encoder (all-MiniLM-L6-v2) was
 * trained to make. Children: the encoder under its family's name ({@code bert}, {@code roberta}),
 * {@code dropout}, {@code classifier}. No Transformers class computes this head.
 */
public final class MeanPooledClassifier extends Module implements SequenceClassifier {

    private final String encoderName;
    private final int numLabels;

    /**
     * @param encoderName the encoder's child name, as the family's Transformers classifier names it
     * @param encoder     the encoder (a {@link TokenEncoder} module)
     * @param dropout     the head's dropout probability
     */
    public MeanPooledClassifier(NDManager manager, String encoderName, Module encoder, int hiddenSize, double dropout,
                                int numLabels) {
        if (numLabels < 1) {
            throw new IllegalArgumentException("numLabels = " + numLabels + " must be >= 1");
        }
        if (!(encoder instanceof TokenEncoder)) {
            throw new IllegalArgumentException(encoder.getClass().getSimpleName() + " is not a token encoder");
        }
        this.encoderName = encoderName;
        this.numLabels = numLabels;
        addChild(encoderName, encoder);
        addChild("dropout", new Dropout((float) dropout));
        addChild("classifier", new Linear(manager, hiddenSize, numLabels, true));
    }

    /** The encoder. */
    public TokenEncoder encoder() {
        return (TokenEncoder) child(encoderName);
    }

    /** The encoder's child name ({@code bert}, {@code roberta}). */
    public String encoderName() {
        return encoderName;
    }

    /** The classifier, for a new head's starting weights. */
    public Linear classifier() {
        return (Linear) child("classifier");
    }

    @Override
    public int numLabels() {
        return numLabels;
    }

    /** None: no Transformers class pools by the mean before its classifier. */
    @Override
    public String architecture() {
        return null;
    }

    /**
     * The pooled sentence vector.
     *
     * @return (B, H)
     */
    public NDArray embed(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        NDArray hidden = encoder().forward(inputIds, attentionMask, tokenTypeIds);   // (B, T, H)
        return Pooling.meanPool(hidden, attentionMask);                             // (B, H)
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        NDArray pooled = ((Dropout) child("dropout")).forward(embed(inputIds, attentionMask, tokenTypeIds));
        return linear("classifier").forward(pooled);                                // (B, numLabels)
    }
}
