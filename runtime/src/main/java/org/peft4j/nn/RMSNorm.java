package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.tensor.Functional;

/**
 * Root-mean-square LayerNorm (Zhang &amp; Sennrich 2019, eq. 4): y = x / √(mean(x²) + ε) · g.
 * No mean subtraction and no bias; the scale {@code weight} starts at one, as in HF's LlamaRMSNorm.
 */
public final class RMSNorm extends Module {

    private final float eps;

    public RMSNorm(NDManager manager, long dim, float eps) {
        this.eps = eps;
        addParameter("weight", new Parameter(manager.ones(new Shape(dim), DataType.FLOAT32)));
    }

    public Parameter weight() {
        return parameters().get("weight");
    }

    /** (..., dim) -> (..., dim). */
    public NDArray forward(NDArray x) {
        return Functional.rmsNorm(x, weight().value(), eps);
    }
}
