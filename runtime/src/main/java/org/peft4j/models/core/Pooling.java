package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import org.peft4j.tensor.Precision;

/** Turns per-token hidden states into one vector per sequence. */
public final class Pooling {

    private Pooling() {
    }

    /**
     * The mean of the hidden states of real (non-padding) tokens, as sentence-transformers computes
     * it for MiniLM.
     *
     * @param hidden        (B, T, H)
     * @param attentionMask (B, T), 1 for real tokens and 0 for padding; null averages over all T
     * @return (B, H)
     */
    public static NDArray meanPool(NDArray hidden, NDArray attentionMask) {
        hidden = Precision.float32(hidden);
        if (attentionMask == null) {
            return hidden.mean(new int[] {1});
        }
        NDArray m = attentionMask.toType(hidden.getDataType(), false).expandDims(-1);  // (B, T, 1)
        NDArray sum = hidden.mul(m).sum(new int[] {1});                                // (B, H)
        // an all-padding row gives 0 rather than NaN; same clamp as sentence-transformers
        NDArray count = m.sum(new int[] {1}).maximum(1e-9f);                          // (B, 1)
        return sum.div(count);
    }
}
