package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.tensor.Precision;

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
        // the mean of squares in float32 whatever the weights' dtype: in half precision x² overflows
        // above 256 and the mean loses the small components (HF's LlamaRMSNorm upcasts the same way)
        NDArray x32 = Precision.float32(x);
        NDArray meanSquare = x32.square().mean(new int[] {-1}, true);   // (..., 1)
        NDArray rms = meanSquare.add(eps).sqrt();                         // (..., 1)
        // out of place: these tensors are on the autograd graph during training
        NDArray g = weight().value();
        return Precision.like(x32.div(rms), g).mul(g);
    }
}
