package org.peft4j.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;

import java.util.Locale;

/**
 * A tensor as a person reads it: shape, dtype and device, then its first values. Large tensors are not
 * copied whole: only the first values leave the engine.
 */
public final class TensorSummary {

    private static final int PREVIEW = 8;

    private TensorSummary() {
    }

    /** e.g. {@code tensor [2, 384] float32 cpu() [0.0123, -0.4511, …] (768 values)}. */
    public static String of(NDArray a) {
        long n = a.getShape().size();
        StringBuilder sb = new StringBuilder("tensor ")
                .append(a.getShape().toString().replace("(", "[").replace(")", "]")).append(' ')
                .append(a.getDataType().name().toLowerCase(Locale.ROOT)).append(' ').append(a.getDevice());
        if (n == 0 || a.getDataType().isFloating() == a.getDataType().isInteger()) {
            return sb.toString();
        }
        try (NDScope scope = new NDScope()) {
            NDArray flat = a.reshape(-1).get(new NDIndex("0:" + Math.min(n, PREVIEW)));
            sb.append(" [");
            if (a.getDataType().isFloating()) {
                float[] v = Precision.float32(flat).toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", v[i]));
                }
            } else {
                long[] v = flat.toType(ai.djl.ndarray.types.DataType.INT64, false).toLongArray();
                for (int i = 0; i < v.length; i++) {
                    sb.append(i == 0 ? "" : ", ").append(v[i]);
                }
            }
            sb.append(n > PREVIEW ? ", …]" : "]");
        }
        return sb.append(String.format(Locale.ROOT, " (%,d values)", n)).toString();
    }
}
