package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;

/** A decoder language model: next-token logits for every position, optionally over a {@link KvCache}. */
public interface CausalLm {

    /**
     * @param inputIds      (B, T) the new tokens (the whole sequence, or one step after a cache)
     * @param attentionMask (B, S) 1 for real tokens and 0 for padding over the cached and the new
     *                      positions (S = past + T), or null when nothing is padded
     * @param positionIds   (B, T) positions of the new tokens, or null to count real tokens
     *                      (so left padding does not shift positions)
     * @param cache         past keys and values, extended by this call; or null
     * @return (B, T, V) logits
     */
    NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache);

    /** An empty cache with one slot per layer. */
    KvCache newCache();

    /** V, the number of logits per position. */
    int vocabSize();

    /** The longest sequence (cache included) the model accepts. */
    int maxPositions();
}
