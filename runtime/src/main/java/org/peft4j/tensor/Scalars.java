package org.peft4j.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Arithmetic with a plain number that is safe on the autograd graph.
 *
 * <p>DJL's {@code x.mul(Number)} (and {@code div}, {@code pow}, {@code muli}) wraps the number in a
 * 0-d array whose storage is a Java direct buffer (libtorch's {@code from_blob}, no copy) and closes
 * that array as soon as the op returns. Autograd keeps the 0-d tensor for the backward of mul, div
 * and pow; once the garbage collector frees the buffer, backward reads freed memory, and a step's
 * gradient comes out as garbage (inf or NaN) while its loss is finite — rarely, and depending on
 * when the collector ran. Here the number becomes a libtorch-owned tensor ({@code torch.full}),
 * which the graph can keep after our handle is closed.
 */
public final class Scalars {

    private Scalars() {
    }

    public static NDArray mul(NDArray x, double s) {
        try (NDArray c = scalar(x, s)) {
            return x.mul(c);
        }
    }

    public static NDArray div(NDArray x, double s) {
        try (NDArray c = scalar(x, s)) {
            return x.div(c);
        }
    }

    /** In place, for tensors that are on the graph (an in-place mul saves its factor too). */
    public static NDArray muli(NDArray x, double s) {
        try (NDArray c = scalar(x, s)) {
            return x.muli(c);
        }
    }

    public static NDArray pow(NDArray x, double e) {
        try (NDArray c = scalar(x, e)) {
            return x.pow(c);
        }
    }

    private static NDArray scalar(NDArray like, double value) {
        return like.getManager().full(new Shape(), (float) value, like.getDataType());
    }
}
