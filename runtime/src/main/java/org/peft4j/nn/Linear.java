package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

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
        // one fused libtorch call (addmm); the weight is read in place, never transposed into a copy
        return ai.djl.nn.core.Linear.linear(x, weight().value(), b == null ? null : b.value()).singletonOrThrow();
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
