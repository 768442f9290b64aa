package org.peft4j.data;

import ai.djl.ndarray.NDArray;

/**
 * A padded batch for a causal language model; all arrays are (B, T) int64.
 *
 * @param inputIds      token ids, the pad id on padding
 * @param attentionMask 1 on real tokens, 0 on padding
 * @param labels        the token id where it is learned, −100 on the prompt and on padding (not shifted:
 *                      the loss shifts them)
 * @param tokens        real tokens in the batch
 * @param learnedTokens tokens whose label is learned
 */
public record CausalLmBatch(NDArray inputIds, NDArray attentionMask, NDArray labels, long tokens, long learnedTokens)
        implements AutoCloseable, org.peft4j.train.TrainBatch {

    @Override
    public int examples() {
        return size();
    }

    public int size() {
        return Math.toIntExact(inputIds.getShape().get(0));
    }

    @Override
    public void close() {
        inputIds.close();
        attentionMask.close();
        labels.close();
    }
}
