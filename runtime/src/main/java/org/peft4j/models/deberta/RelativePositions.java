package org.peft4j.models.deberta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * DeBERTa's relative positions δ(i, j) = i − j between query i and key j (He et al. 2021, eq. 3),
 * as rows of the relative-embedding table. With log buckets (DeBERTa-v2/v3's {@code position_buckets}
 * b, mid = b / 2, k = max_relative_positions), distances below mid stay exact and the others are
 * compressed: sign(δ) · (⌈ln(|δ| / mid) / ln((k − 1) / mid) · (mid − 1)⌉ + mid), computed with the
 * engine in float32 exactly as Transformers' {@code make_log_bucket_position}, so the same distances
 * fall into the same buckets.
 */
final class RelativePositions {

    private RelativePositions() {
    }

    /**
     * The content-to-position index of every (query, key) pair: clamp(δ(i, j) + span, 0, 2·span − 1), a
     * row of the 2·span-row table. The position-to-content term reads it transposed (Transformers'
     * −δ(j, i) + span, which is the same value at (j, i)).
     *
     * @param t           T, the sequence length
     * @param buckets     b, or &lt;= 0 for exact distances
     * @param maxDistance k, the distance the buckets reach
     * @param span        the table's half size
     * @return (T, T) int64
     */
    static NDArray index(NDManager manager, long t, int buckets, int maxDistance, int span) {
        NDArray q = manager.arange(0, t, 1, DataType.INT64).reshape(t, 1);           // (T, 1)
        NDArray k = manager.arange(0, t, 1, DataType.INT64).reshape(1, t);           // (1, T)
        NDArray delta = q.sub(k);                                                    // (T, T) i − j
        if (buckets > 0 && maxDistance > 0) {
            delta = bucket(delta, buckets, maxDistance);
        }
        return delta.add(span).clip(0, 2 * span - 1);                                // (T, T)
    }

    /** make_log_bucket_position, op for op. */
    private static NDArray bucket(NDArray delta, int buckets, int maxDistance) {
        NDManager m = delta.getManager();
        int mid = buckets / 2;
        NDArray near = delta.lt(mid).logicalAnd(delta.gt(-mid));
        NDArray abs = NDArrays.where(near, m.full(delta.getShape(), mid - 1, DataType.INT64), delta.abs());  // (T, T) int64
        NDArray logSpan = m.create((float) ((maxDistance - 1) / (double) mid)).log();                 // 0-d float32
        NDArray logPos = abs.toType(DataType.FLOAT32, false).div(mid).log().div(logSpan)
                .mul(mid - 1).ceil().add(mid);                                                          // (T, T) float32
        NDArray signed = logPos.mul(delta.sign().toType(DataType.FLOAT32, false));
        return NDArrays.where(abs.lte(mid), delta.toType(DataType.FLOAT32, false), signed).toType(DataType.INT64, false);
    }
}
