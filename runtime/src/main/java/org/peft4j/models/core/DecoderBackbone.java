package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;

/**
 * A decoder stack without a head (Transformers' base model: {@code LlamaModel}, {@code GPT2Model}):
 * the final hidden states, on which a language-model head or a classifier's {@code score} sits.
 */
public interface DecoderBackbone {

    /**
     * @param inputIds      (B, T) new token ids
     * @param attentionMask (B, S) over cached + new positions, or null
     * @param positionIds   (B, T), or null to count real tokens
     * @param cache         or null
     * @return (B, T, H) the final (normalised) hidden states
     */
    NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache);
}
