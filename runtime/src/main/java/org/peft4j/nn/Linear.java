package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.tensor.Functional;
import org.peft4j.tensor.Precision;

/** y = x Wᵀ + b with W stored [out, in], as in PyTorch and Hugging Face checkpoints. */
public final class Linear extends Module implements LinearLayer {

    private final long in;
    private final long out;

    public Linear(NDManager manager, long in, long out, boolean bias) {
        this.in = in;
        this.out = out;
        addParameter("weight", new Parameter(manager.zeros(new Shape(out, in), DataType.FLOAT32)));
        if (bias) {
            addParameter("bias", new Parameter(manager.zeros(new Shape(out), DataType.FLOAT32)));
        }
    }

    public Parameter weight() {
        return parameters().get("weight");
    }

    /** The bias, or null. */
    public Parameter bias() {
        return parameters().get("bias");
    }

    @Override
    public NDArray forward(NDArray x) {
        Parameter b = bias();
        NDArray w = weight().value();
        // one fused libtorch call (addmm); the weight is read in place, never transposed into a copy. A
        // trainable float32 bias on a frozen half-precision weight joins in the weight's dtype (its
        // gradient flows back through the cast), so the output is always in the weight's dtype.
        return Functional.linear(Precision.like(x, w), w, b == null ? null : Precision.like(b.value(), w));
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
