package org.peft4j.data;

import ai.djl.ndarray.NDArray;

/**
 * One padded batch of B examples, T = the longest example in this batch. All arrays are int64 and
 * belong to the manager (and scope) they were made in.
 *
 * @param inputIds      (B, T) token ids, the pad id after each example's end
 * @param attentionMask (B, T) 1 on real tokens, 0 on padding
 * @param tokenTypeIds  (B, T) segment ids, 0 on padding
 * @param labels        (B) class ids
 * @param tokens        real (non-padding) tokens in the batch, for throughput numbers
 */
public record Batch(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds, NDArray labels, long tokens)
        implements AutoCloseable, org.peft4j.train.TrainBatch {

    @Override
    public int examples() {
        return size();
    }

    public int size() {
        return Math.toIntExact(labels.getShape().get(0));
    }

    /** Frees the four arrays now, for callers that do not run the step in a scope. */
    @Override
    public void close() {
        inputIds.close();
        attentionMask.close();
        tokenTypeIds.close();
        labels.close();
    }
}
