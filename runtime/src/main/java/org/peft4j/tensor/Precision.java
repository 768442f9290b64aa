package org.peft4j.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * The casts where half-precision frozen weights meet float32 adapters, heads and losses. Each is a
 * no-op (the same array, no copy) when the dtypes already agree, so float32 runs pay nothing.
 *
 * <p>DJL's {@code toType} cuts the autograd graph (the cast has no backward: a loss reached only
 * through it reports "does not require grad"), while libtorch's in-place add into a tensor of
 * another dtype is differentiable and keeps the target's dtype. So a cast on the forward path is
 * {@code zeros(dtype).addi(x)}: one more pass over x, and only where two precisions meet.
 */
public final class Precision {

    private Precision() {
    }

    /** {@code x} as {@code dtype}. */
    public static NDArray as(NDArray x, DataType dtype) {
        if (x.getDataType() == dtype) {
            return x;
        }
        return x.getManager().zeros(x.getShape(), dtype, x.getDevice()).addi(x);
    }

    /** {@code x} in the dtype of {@code like}. */
    public static NDArray like(NDArray x, NDArray like) {
        return as(x, like.getDataType());
    }

    /**
     * {@code x} in float32: reductions and losses (log-softmax over a vocabulary, pooled sums,
     * cosine similarities) lose too much in half precision, so they always run in float32, as
     * Hugging Face upcasts logits before its losses.
     */
    public static NDArray float32(NDArray x) {
        return x.getDataType() == DataType.FLOAT32 || x.getDataType() == DataType.FLOAT64 ? x : as(x, DataType.FLOAT32);
    }
}
