package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;

/** A bidirectional encoder's token states, for embeddings: {@link Task#ENCODER}. */
public interface TokenEncoder {

    /**
     * @param inputIds      (B, T) token ids
     * @param attentionMask (B, T) 1 for real tokens, 0 for padding; null when nothing is padded
     * @param tokenTypeIds  (B, T) segment ids, or null for all zeros
     * @return (B, T, H) the last hidden state
     */
    NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds);

    /** The longest input the positions cover. */
    int maxLength();
}
