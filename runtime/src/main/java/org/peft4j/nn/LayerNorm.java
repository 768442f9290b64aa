package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.tensor.Functional;
import org.peft4j.tensor.Precision;

/**
 * LayerNorm over the last dimension with learned scale ({@code weight}) and, unless built without
 * one (ModernBERT's {@code norm_bias = false}), shift ({@code bias}).
 */
public final class LayerNorm extends Module {

    private final float eps;
    private final Shape normalized;

    public LayerNorm(NDManager manager, long dim, float eps) {
        this(manager, dim, eps, true);
    }

    public LayerNorm(NDManager manager, long dim, float eps, boolean bias) {
        this.eps = eps;
        this.normalized = new Shape(dim);
        addParameter("weight", new Parameter(manager.ones(normalized, DataType.FLOAT32)));
        if (bias) {
            addParameter("bias", new Parameter(manager.zeros(normalized, DataType.FLOAT32)));
        }
    }

    public NDArray forward(NDArray x) {
        NDArray w = parameters().get("weight").value();
        Parameter bias = parameters().get("bias");
        // the engine's layer norm takes a shift; a zero one adds nothing
        NDArray b = bias == null ? w.zerosLike() : Precision.like(bias.value(), w);
        return Functional.layerNorm(Precision.like(x, w), w, b, eps);
    }
}
