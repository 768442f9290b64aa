package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.tensor.Functional;
import org.peft4j.tensor.Precision;

/**
 * Root-mean-square LayerNorm (Zhang &amp; Sennrich 2019, eq. 4): y = x / √(mean(x²) + ε) · g.
 * No mean subtraction and no bias; the scale {@code weight} starts at one, as in HF's LlamaRMSNorm.
 * Gemma's variant ({@link #unitOffset}) scales by g = 1 + w with w starting at zero.
 */
public final class RMSNorm extends Module {

    private final float eps;
    private final boolean unitOffset;

    public RMSNorm(NDManager manager, long dim, float eps) {
        this(manager, dim, eps, false);
    }

    private RMSNorm(NDManager manager, long dim, float eps, boolean unitOffset) {
        this.eps = eps;
        this.unitOffset = unitOffset;
        Shape shape = new Shape(dim);
        addParameter("weight", new Parameter(unitOffset ? manager.zeros(shape, DataType.FLOAT32)
                : manager.ones(shape, DataType.FLOAT32)));
    }

    /**
     * Gemma's RMSNorm: y = x / √(mean(x²) + ε) · (1 + w), the scale formed and applied in float32 and
     * the result in x's dtype (as Transformers' Gemma3RMSNorm); w starts at zero.
     */
    public static RMSNorm unitOffset(NDManager manager, long dim, float eps) {
        return new RMSNorm(manager, dim, eps, true);
    }

    public Parameter weight() {
        return parameters().get("weight");
    }

    public boolean isUnitOffset() {
        return unitOffset;
    }

    /** (..., dim) -> (..., dim). */
    public NDArray forward(NDArray x) {
        if (unitOffset) {
            NDArray scale = Precision.float32(weight().value()).add(1f);   // (dim), float32
            return Precision.like(Functional.rmsNorm(x, scale, eps), x);
        }
        return Functional.rmsNorm(x, weight().value(), eps);
    }
}
