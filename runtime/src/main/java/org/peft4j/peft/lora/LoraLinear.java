package org.peft4j.peft.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A frozen linear layer plus a low-rank update (Hu et al. 2021, Eq. 3):
 * h = W₀x + (α/r) · B A x, with A: r×in, B: out×r and B = 0 at start so the model is unchanged.
 *
 * <p>The base layer is held, not copied, under the child name {@code base_layer} (as Hugging Face
 * PEFT names it), and stays untouched until {@link #merge()}.
 */
public final class LoraLinear extends Module implements LinearLayer {

    private final int r;
    private final double scaling;
    private boolean merged;

    /**
     * @param base    the layer to adapt (frozen by the caller)
     * @param r       rank
     * @param alpha   scaling numerator
     * @param dropout dropout on the adapter's input
     */
    public LoraLinear(Linear base, int r, double alpha, double dropout, NDManager manager) {
        this.r = r;
        this.scaling = alpha / r;
        addChild("base_layer", base);
        addChild("lora_dropout", new Dropout((float) dropout));
        Linear a = addChild("lora_A", new Linear(manager, base.inFeatures(), r, false));
        addChild("lora_B", new Linear(manager, r, base.outFeatures(), false));
        // A ~ kaiming_uniform(a=√5) as nn.Linear and PEFT initialise it: bound = √(6 / ((1 + a²)·fan_in)) = 1/√in
        double bound = 1.0 / Math.sqrt(base.inFeatures());
        a.weight().set(manager.randomUniform((float) -bound, (float) bound, new Shape(r, base.inFeatures()),
                DataType.FLOAT32));
    }

    public Linear base() {
        return (Linear) child("base_layer");
    }

    public Linear loraA() {
        return (Linear) child("lora_A");
    }

    public Linear loraB() {
        return (Linear) child("lora_B");
    }

    public int rank() {
        return r;
    }

    public double scaling() {
        return scaling;
    }

    public boolean isMerged() {
        return merged;
    }

    /** The parameters that belong to the adapter, by their names inside this layer. */
    public Map<String, Parameter> adapterParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        out.put("lora_A.weight", loraA().weight());
        out.put("lora_B.weight", loraB().weight());
        return out;
    }

    @Override
    public NDArray forward(NDArray x) {
        NDArray h = base().forward(x);
        if (merged) {
            return h;
        }
        NDArray dx = ((Dropout) child("lora_dropout")).forward(x);
        // two thin matmuls; the scaling is applied to the r-wide intermediate, the smallest tensor on the path
        NDArray low = loraA().forward(dx).muli((float) scaling);
        return h.addi(loraB().forward(low));
    }

    /** ΔW = (α/r) · B A, shape [out, in]. */
    public NDArray delta() {
        return loraB().weight().value().matMul(loraA().weight().value()).muli((float) scaling);
    }

    /** Folds ΔW into the base weight, so inference costs one matmul; refuses if the result is not finite. */
    public void merge() {
        if (merged) {
            return;
        }
        NDArray w = base().weight().value();
        NDArray mergedW = w.add(delta());
        if (!mergedW.isInfinite().logicalOr(mergedW.isNaN()).none().getBoolean()) {
            mergedW.close();
            throw new IllegalStateException("merging the adapter gives non-finite weights; the adapter is left unmerged");
        }
        base().weight().set(mergedW);
        merged = true;
    }

    /** Subtracts ΔW again, restoring the base weight (up to float rounding). */
    public void unmerge() {
        if (!merged) {
            return;
        }
        base().weight().set(base().weight().value().sub(delta()));
        merged = false;
    }

    @Override
    public long inFeatures() {
        return base().inFeatures();
    }

    @Override
    public long outFeatures() {
        return base().outFeatures();
    }
}
