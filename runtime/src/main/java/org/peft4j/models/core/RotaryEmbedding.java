package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import org.peft4j.tensor.Scalars;

/**
 * Rotary position embeddings (Su et al. 2021, RoFormer eq. 34) in Hugging Face's "rotate half"
 * layout: feature i is paired with feature i + hs/2 (not with its neighbour), and
 * x' = x · cos(p θ) + rotate_half(x) · sin(p θ), with rotate_half([x1, x2]) = [−x2, x1] and the
 * frequencies θ of {@link RopeParameters}, repeated for both halves.
 */
public final class RotaryEmbedding {

    private final int headDim;
    private final RopeParameters rope;
    private final double[] invFreqValues;
    private final NDArray invFreq;   // (hs/2), lives as long as the model

    public RotaryEmbedding(NDManager manager, int headDim, RopeParameters rope) {
        this.headDim = headDim;
        this.rope = rope;
        this.invFreqValues = rope.inverseFrequencies(headDim, 0);
        this.invFreq = manager.create(toFloat(invFreqValues));
        NDScope.unregister(invFreq);
    }

    private static float[] toFloat(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }

    /** The inverse frequencies at lengths up to max_position_embeddings (a copy). */
    public double[] inverseFrequencies() {
        return invFreqValues.clone();
    }

    public RopeParameters parameters() {
        return rope;
    }

    /**
     * @param positionIds (B, T) int64 positions
     * @return {cos, sin}, each (B, 1, T, hs), to broadcast over heads
     */
    public NDList cosSin(NDArray positionIds) {
        NDArray inv = invFreq;
        if (rope.dependsOnLength()) {
            long seqLen = positionIds.max().getLong() + 1;
            if (seqLen > rope.maxPositionEmbeddings()) {
                inv = positionIds.getManager().create(toFloat(rope.inverseFrequencies(headDim, seqLen)));
            }
        }
        NDArray angles = positionIds.toType(DataType.FLOAT32, false).expandDims(-1).mul(inv);    // (B, T, hs/2)
        NDArray emb = angles.concat(angles, -1).expandDims(1);                                   // (B, 1, T, hs)
        double scaling = rope.attentionScaling();
        if (scaling != 1.0) {
            return new NDList(Scalars.mul(emb.cos(), scaling), Scalars.mul(emb.sin(), scaling));
        }
        return new NDList(emb.cos(), emb.sin());
    }

    /**
     * Rotates queries or keys.
     *
     * @param x (B, n, T, hs)
     * @return (B, n, T, hs)
     */
    public static NDArray apply(NDArray x, NDArray cos, NDArray sin) {
        return x.mul(cos).add(rotateHalf(x).mul(sin));
    }

    /** [x1, x2] -> [−x2, x1] over the last axis, halves of hs/2. */
    static NDArray rotateHalf(NDArray x) {
        long half = x.getShape().get(x.getShape().dimension() - 1) / 2;
        NDArray x1 = x.get("..., :" + half);
        NDArray x2 = x.get("..., " + half + ":");
        return x2.neg().concat(x1, -1);
    }

    public int headDim() {
        return headDim;
    }
}
