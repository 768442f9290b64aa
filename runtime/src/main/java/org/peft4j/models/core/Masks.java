package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * Additive attention masks and the position ids that go with them. A disallowed entry gets the most
 * negative finite value of the scores' dtype, as Hugging Face does: it becomes an exact zero after
 * softmax, and a query with no allowed key (a padding position) gets a uniform row, not the NaN an
 * infinity would give.
 */
public final class Masks {

    private Masks() {
    }

    /** The magnitude of a disallowed entry: the largest finite value of {@code dtype}. */
    public static double lowest(DataType dtype) {
        return dtype == DataType.FLOAT16 ? 65504.0 : Float.MAX_VALUE;
    }

    /**
     * An encoder's padding mask: every query may attend to every real key.
     *
     * @param attentionMask (B, T) 1 for real tokens, 0 for padding
     * @return (B, 1, 1, T) of 0 / −lowest, broadcast over heads and queries
     */
    public static NDArray padding(NDArray attentionMask, DataType dtype) {
        long b = attentionMask.getShape().get(0);
        long t = attentionMask.getShape().get(1);
        return attentionMask.toType(dtype, false).reshape(b, 1, 1, t).sub(1).mul(lowest(dtype));  // (m - 1) * max
    }

    /**
     * An encoder's local-attention mask: query i may attend to key j when |i − j| ≤ {@code halfWindow}
     * and key j is not padding, as Hugging Face's {@code sliding_window_bidirectional_overlay}
     * (ModernBERT: half of {@code local_attention}). The two conditions are joined before the
     * conversion, so a disallowed entry gets the lowest value once, never twice.
     *
     * @param attentionMask (B, T) 1 for real tokens, 0 for padding; or null
     * @param t             T, the sequence length
     * @param halfWindow    W, how far a query sees on either side
     * @return (B or 1, 1, T, T) of 0 / −lowest
     */
    public static NDArray bidirectional(NDManager manager, NDArray attentionMask, long t, int halfWindow,
                                        DataType dtype) {
        NDArray queries = manager.arange(0, t, 1, DataType.INT64).reshape(t, 1);      // (T, 1)
        NDArray keys = manager.arange(0, t, 1, DataType.INT64).reshape(1, t);         // (1, T)
        NDArray near = keys.sub(queries).abs().lte(halfWindow);                        // (T, T)
        NDArray allowed = near.toType(dtype, false).reshape(1, 1, t, t);              // (1, 1, T, T)
        if (attentionMask != null) {
            long b = attentionMask.getShape().get(0);
            allowed = allowed.mul(attentionMask.toType(dtype, false).reshape(b, 1, 1, t));  // (B, 1, T, T)
        }
        return allowed.sub(1).mul(lowest(dtype));                                      // (allowed - 1) * max
    }

    /**
     * A decoder's mask: query i (absolute position past + i) may attend to key j when j ≤ past + i,
     * key j is not padding, and, with a sliding window W &gt; 0, j &gt; past + i − W (the W most recent
     * keys, itself included, as Hugging Face's {@code sliding_window_overlay}). Positions here are
     * cache slots, padding included, as in Hugging Face's masks.
     *
     * @param attentionMask (B, S) 1/0 over cached and new positions, or null
     * @param past          positions already in the cache
     * @param t             T, new positions
     * @param window        W, or 0 for full causal attention
     * @return (B or 1, 1, T, S) of 0 / −lowest
     */
    public static NDArray causal(NDManager manager, NDArray attentionMask, long past, long t, int window,
                                 DataType dtype) {
        long s = past + t;
        NDArray queries = manager.arange(past, s, 1, DataType.INT64).reshape(t, 1);   // (T, 1)
        NDArray keys = manager.arange(0, s, 1, DataType.INT64).reshape(1, s);         // (1, S)
        NDArray causal = keys.lte(queries);                                            // (T, S)
        if (window > 0) {
            causal = causal.logicalAnd(keys.gt(queries.sub(window)));                  // the last W keys
        }
        NDArray allowed = causal.toType(dtype, false).reshape(1, 1, t, s);            // (1, 1, T, S)
        if (attentionMask != null) {
            long b = attentionMask.getShape().get(0);
            if (attentionMask.getShape().get(1) != s) {
                throw new IllegalArgumentException("attentionMask covers " + attentionMask.getShape().get(1)
                        + " positions but the cache holds " + past + " and the input " + t);
            }
            allowed = allowed.mul(attentionMask.toType(dtype, false).reshape(b, 1, 1, s));  // (B, 1, T, S)
        }
        return allowed.sub(1).mul(lowest(dtype));                                      // (allowed - 1) * max
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
