package org.peft4j.models.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;

/**
 * Rotary position embeddings (Su et al. 2021, RoFormer eq. 34) in Hugging Face's "rotate half"
 * layout: feature i is paired with feature i + hs/2 (not with its neighbour), and
 * x' = x · cos(p θ) + rotate_half(x) · sin(p θ), with rotate_half([x1, x2]) = [−x2, x1] and
 * θ_i = theta^(−2i / hs) for i &lt; hs/2, repeated for both halves.
 */
public final class RotaryEmbedding {

    private final int headDim;
    private final double[] invFreqValues;
    private final NDArray invFreq;   // (hs/2), lives as long as the model

    public RotaryEmbedding(NDManager manager, int headDim, double theta, Llama3RopeScaling scaling) {
        this.headDim = headDim;
        this.invFreqValues = inverseFrequencies(headDim, theta, scaling);
        float[] f = new float[invFreqValues.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) invFreqValues[i];
        }
        this.invFreq = manager.create(f);
        NDScope.unregister(invFreq);
    }

    /** θ_i = 1 / theta^(2i / hs), i = 0 .. hs/2 − 1, then the llama3 scaling when given. */
    public static double[] inverseFrequencies(int headDim, double theta, Llama3RopeScaling scaling) {
        double[] inv = new double[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
        }
        return scaling == null ? inv : scaling.apply(inv);
    }

    /** The inverse frequencies in use (a copy). */
    public double[] inverseFrequencies() {
        return invFreqValues.clone();
    }

    /**
     * @param positionIds (B, T) int64 positions
     * @return {cos, sin}, each (B, 1, T, hs), to broadcast over heads
     */
    public NDList cosSin(NDArray positionIds) {
        NDArray angles = positionIds.toType(DataType.FLOAT32, false).expandDims(-1).mul(invFreq); // (B, T, hs/2)
        NDArray emb = angles.concat(angles, -1).expandDims(1);                                   // (B, 1, T, hs)
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
