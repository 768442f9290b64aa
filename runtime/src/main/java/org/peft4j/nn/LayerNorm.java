package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.tensor.Functional;
import org.peft4j.tensor.Precision;

/** LayerNorm over the last dimension with learned scale ({@code weight}) and shift ({@code bias}). */
public final class LayerNorm extends Module {

    private final float eps;
    private final Shape normalized;

    public LayerNorm(NDManager manager, long dim, float eps) {
        this.eps = eps;
        this.normalized = new Shape(dim);
        addParameter("weight", new Parameter(manager.ones(normalized, DataType.FLOAT32)));
        addParameter("bias", new Parameter(manager.zeros(normalized, DataType.FLOAT32)));
    }

    public NDArray forward(NDArray x) {
        NDArray w = parameters().get("weight").value();
        return Functional.layerNorm(Precision.like(x, w), w, Precision.like(parameters().get("bias").value(), w), eps);
    }
}
