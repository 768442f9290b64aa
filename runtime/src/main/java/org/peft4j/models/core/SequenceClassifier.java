package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;

/** A model with a classification head: one row of logits per text. */
public interface SequenceClassifier {

    /**
     * @param inputIds      (B, T) token ids
     * @param attentionMask (B, T), 1 for real tokens and 0 for padding; null when nothing is padded
     * @param tokenTypeIds  (B, T) segment ids, or null for all zeros
     * @return (B, numLabels) logits
     */
    NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds);

    int numLabels();

    /**
     * The Transformers class that computes this head ({@code config.json}'s {@code architectures}),
     * or null when none does ({@link MeanPooledClassifier}). By default the class's own name, as
     * peft4j's classifiers are named after theirs.
     */
    default String architecture() {
        return getClass().getSimpleName();
    }
}
