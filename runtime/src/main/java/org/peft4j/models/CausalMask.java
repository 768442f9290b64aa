package org.peft4j.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/** The attention mask and position ids of a decoder: causal, padding-aware, cache-aware. */
public final class CausalMask {

    private CausalMask() {
    }

    /**
     * Additive mask: query i (absolute position past + i) may attend to key j when j ≤ past + i
     * and key j is not padding. Disallowed entries get the most negative finite value, as HF does,
     * so a query with no allowed key (a left-padding position) gets a uniform row, not NaN.
     *
     * @param attentionMask (B, S) 1/0 over cached and new positions, or null
     * @param past          positions already in the cache
     * @param t             T, new positions
     * @return (B or 1, 1, T, S) of 0 / lowest
     */
    public static NDArray additive(NDManager manager, NDArray attentionMask, long past, long t, DataType dtype) {
        long s = past + t;
        NDArray queries = manager.arange(past, s, 1, DataType.INT64).reshape(t, 1);   // (T, 1)
        NDArray keys = manager.arange(0, s, 1, DataType.INT64).reshape(1, s);         // (1, S)
        NDArray allowed = keys.lte(queries).toType(dtype, false).reshape(1, 1, t, s); // (1, 1, T, S)
        if (attentionMask != null) {
            long b = attentionMask.getShape().get(0);
            if (attentionMask.getShape().get(1) != s) {
                throw new IllegalArgumentException("attentionMask covers " + attentionMask.getShape().get(1)
                        + " positions but the cache holds " + past + " and the input " + t);
            }
            allowed = allowed.mul(attentionMask.toType(dtype, false).reshape(b, 1, 1, s));  // (B, 1, T, S)
        }
        double lowest = dtype == DataType.FLOAT16 ? 65504.0 : Float.MAX_VALUE;
        return allowed.sub(1).mul(lowest);                                             // (allowed - 1) * max
    }

    /**
     * Position ids of the new tokens: the count of real tokens before each one (cumsum(mask) − 1,
     * as HF's generate computes them), so a left-padded sequence starts at 0 like an unpadded one.
     *
     * @return (B, T) int64, or (1, T) past..past+T−1 when there is no mask
     */
    public static NDArray positions(NDManager manager, NDArray attentionMask, long past, long t) {
        if (attentionMask == null) {
            return manager.arange(past, past + t, 1, DataType.INT64).reshape(1, t);
        }
        NDArray counted = attentionMask.toType(DataType.INT64, false).cumSum(1).sub(1).maximum(0);  // (B, S)
        return counted.get(":, " + past + ":");                                                    // (B, T)
    }
}
