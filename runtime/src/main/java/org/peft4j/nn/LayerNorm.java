package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

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
        return ai.djl.nn.norm.LayerNorm.layerNorm(x, normalized, parameters().get("weight").value(),
                parameters().get("bias").value(), eps).singletonOrThrow();
    }
}
