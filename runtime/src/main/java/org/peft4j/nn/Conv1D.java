package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.tensor.Precision;

/**
 * GPT-2's "Conv1D": a linear layer whose weight is stored [in, out] (the transpose of
 * {@link Linear}), so y = x W + b. Kept in that layout so GPT-2 checkpoints load without a
 * transpose, and computed with one matmul on the stored weight (no per-step transpose either).
 */
public final class Conv1D extends Module implements LinearLayer {

    private final long in;
    private final long out;

    public Conv1D(NDManager manager, long in, long out) {
        this.in = in;
        this.out = out;
        addParameter("weight", new Parameter(manager.zeros(new Shape(in, out), DataType.FLOAT32)));
        addParameter("bias", new Parameter(manager.zeros(new Shape(out), DataType.FLOAT32)));
    }

    public Parameter weight() {
        return parameters().get("weight");
    }

    public Parameter bias() {
        return parameters().get("bias");
    }

    /** (..., in) -> (..., out). */
    @Override
    public NDArray forward(NDArray x) {
        NDArray w = weight().value();
        return Precision.like(x, w).matMul(w).add(Precision.like(bias().value(), w));
    }

    /** The weight is [in, out]. */
    @Override
    public boolean fanInFanOut() {
        return true;
    }

    @Override
    public long inFeatures() {
        return in;
    }

    @Override
    public long outFeatures() {
        return out;
    }
}
