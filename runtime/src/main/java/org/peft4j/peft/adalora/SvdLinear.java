package org.peft4j.peft.adalora;

import org.peft4j.tensor.Functional;
import org.peft4j.tensor.Precision;
import org.peft4j.tensor.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.peft.AdapterLayer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A frozen linear layer plus an update in SVD form (Eq. 3): h = W₀x + P Λ Q x · α / ranknum, with
 * P = {@code lora_B} [out, r] (left singular vectors), Λ = {@code lora_E} [r, 1] (singular values,
 * zero at start so the model is unchanged) and Q = {@code lora_A} [r, in] (right singular vectors).
 * The three are parameters of this module, named as PEFT names them, so their paths
 * ({@code <path>.lora_A}) are PEFT's state-dict keys.
 *
 * <p>Pruning (Eq. 13's T(·)) records a 0/1 mask and zeroes the pruned λ in place, as PEFT's
 * {@code masked_fill_}; the forward pass uses Λ as it is. So a pruned λ still gets a gradient, and
 * while the budget is being allocated the optimizer may move it again and a later allocation may keep
 * it (see {@link RankAllocator}); once the mask is fixed, {@link #applyMask()} after every optimizer
 * step keeps it at zero.
 *
 * <p>ranknum: PEFT fills it with the initial rank when the layer is created and never changes it;
 * a resized (loaded) layer copies the old value, so the scale stays α / init_r after pruning and
 * loading. We do the same, so that PEFT's adapters give PEFT's outputs here. PEFT divides by
 * ranknum + 1e-5 (a relative difference of about 1e-6); we divide by ranknum, which is never 0
 * because init_r ≥ 1. A layer whose triplets are all pruned (rank 0 after loading) adds nothing.
 *
 * <p>The base is any {@link LinearLayer} with a 2-D weight: a {@link Linear} ([out, in]) or GPT-2's
 * Conv1D ([in, out], {@link LinearLayer#fanInFanOut()}). P, Λ and Q have the same shapes for both,
 * as in PEFT; only merging writes ΔW transposed into an [in, out] weight.
 */
public final class SvdLinear extends Module implements AdapterLayer {

    private final int r;
    private final double ranknum;
    private final double alpha;
    private final boolean fanInFanOut;
    private NDArray mask;
    private boolean merged;

    /** A fresh layer of rank {@code r}: P, Q ~ N(0, 0.02²) as PEFT's {@code reset_lora_parameters}, Λ = 0. */
    public SvdLinear(Module base, int r, double alpha, double dropout, NDManager manager) {
        this(base, r, r, alpha, dropout, manager);
        if (r > 0) {
            lora("lora_A").set(manager.randomNormal(0f, 0.02f, new Shape(r, inFeatures()), DataType.FLOAT32));
            lora("lora_B").set(manager.randomNormal(0f, 0.02f, new Shape(outFeatures(), r), DataType.FLOAT32));
        }
    }

    /**
     * A layer of rank {@code r} whose scale is α / {@code ranknum} (a loaded, pruned layer keeps the
     * ranknum of the layer it was pruned from); all parameters start at zero.
     */
    public SvdLinear(Module base, int r, double ranknum, double alpha, double dropout, NDManager manager) {
        if (r < 0 || ranknum <= 0) {
            throw new IllegalArgumentException("rank " + r + " must be >= 0 and ranknum " + ranknum + " > 0");
        }
        if (!(base instanceof LinearLayer linear) || base.parameters().get("weight") == null) {
            throw new IllegalArgumentException(base.getClass().getSimpleName() + " is not a linear layer with a weight");
        }
        this.r = r;
        this.ranknum = ranknum;
        this.alpha = alpha;
        this.fanInFanOut = linear.fanInFanOut();
        addChild("base_layer", base);
        addChild("lora_dropout", new Dropout((float) dropout));
        addParameter("lora_A", new Parameter(manager.zeros(new Shape(r, linear.inFeatures()), DataType.FLOAT32)));
        addParameter("lora_E", new Parameter(manager.zeros(new Shape(r, 1), DataType.FLOAT32)));
        addParameter("lora_B", new Parameter(manager.zeros(new Shape(linear.outFeatures(), r), DataType.FLOAT32)));
        mask = manager.ones(new Shape(r, 1), DataType.FLOAT32);
        NDScope.unregister(mask);
    }

    private Parameter lora(String name) {
        return parameters().get(name);
    }

    /** The wrapped layer as a {@link Linear}; see {@link #baseLayer()} for other linear-like layers. */
    public Linear base() {
        Module b = child("base_layer");
        if (!(b instanceof Linear l)) {
            throw new IllegalStateException("the base layer is a " + b.getClass().getSimpleName() + ", not a Linear; use baseLayer()");
        }
        return l;
    }

    /** The wrapped layer, whatever its class. */
    public Module baseLayer() {
        return child("base_layer");
    }

    /** The base layer's weight as stored: [out, in], or [in, out] when {@link #fanInFanOut()}. */
    public Parameter baseWeight() {
        return baseLayer().parameters().get("weight");
    }

    /** The base weight is stored [in, out] (GPT-2's Conv1D). */
    @Override
    public boolean fanInFanOut() {
        return fanInFanOut;
    }

    /** Q, [r, in]. */
    public Parameter loraA() {
        return lora("lora_A");
    }

    /** Λ, [r, 1]. */
    public Parameter loraE() {
        return lora("lora_E");
    }

    /** P, [out, r]. */
    public Parameter loraB() {
        return lora("lora_B");
    }

    public int rank() {
        return r;
    }

    public double ranknum() {
        return ranknum;
    }

    /** α / ranknum. */
    public double scaling() {
        return alpha / ranknum;
    }

    /** The 0/1 mask on Λ, [r, 1]; read-only for callers. */
    public NDArray mask() {
        return mask;
    }

    /** How many triplets the latest allocation kept. */
    public int activeRank() {
        if (r == 0) {
            return 0;
        }
        try (NDArray kept = mask.sum()) {
            return (int) kept.getFloat();
        }
    }

    /** Which triplets survive, in order (PEFT's rank_pattern entry for this layer). */
    public boolean[] survivors() {
        float[] m = mask.toFloatArray();
        boolean[] out = new boolean[m.length];
        for (int i = 0; i < m.length; i++) {
            out[i] = m[i] != 0f;
        }
        return out;
    }

    /**
     * Sets the mask (1 keeps, 0 prunes; [r, 1] or [r]) and zeroes the pruned λ in place. Runs
     * outside any gradient recording.
     */
    public void setMask(NDArray keep) {
        restoreMask(keep);
        applyMask();
    }

    /**
     * Puts back a saved mask ([r, 1] or [r]) without touching λ: a checkpoint restores λ itself,
     * and between two allocations a pruned λ need not be zero.
     */
    public void restoreMask(NDArray keep) {
        // a copy in the layer's own manager: the caller's array may belong to a scope or manager about to close
        NDArray m = loraE().value().getManager().create(keep.toType(DataType.FLOAT32, false).toFloatArray(),
                new Shape(r, 1));
        NDScope.unregister(m);
        NDArray old = mask;
        mask = m;
        old.close();
    }

    /** Zeroes the pruned λ again, in place (after an optimizer step may have moved them). */
    public void applyMask() {
        if (r > 0) {
            loraE().value().muli(mask);
        }
    }

    /** The parameters that belong to the adapter, by their names inside this layer. */
    public Map<String, Parameter> adapterParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        out.put("lora_A", loraA());
        out.put("lora_E", loraE());
        out.put("lora_B", loraB());
        return out;
    }

    @Override
    public NDArray forward(NDArray x) {
        NDArray h = ((LinearLayer) baseLayer()).forward(x);
        if (merged || r == 0) {
            return h;
        }
        // the adapter runs in its own dtype (float32) also when the frozen base is half precision
        NDArray dx = Precision.like(((Dropout) child("lora_dropout")).forward(x), loraA().value());
        // [.., in] → [.., r]: Q x, then ⊙ Λ · α/ranknum on the r-wide intermediate, then P
        NDArray low = Functional.linear(dx, loraA().value(), null);
        NDArray lambda = Scalars.mul(loraE().value().reshape(r), scaling());
        NDArray up = Functional.linear(low.mul(lambda), loraB().value(), null);
        return h.addi(up);
    }

    /** ΔW = P Λ Q · α / ranknum, shape [out, in]; pruned triplets have λ = 0. */
    public NDArray delta() {
        return loraB().value().matMul(loraA().value().mul(loraE().value())).muli((float) scaling());
    }

    public boolean isMerged() {
        return merged;
    }

    /** ΔW in the base weight's layout: [out, in], or its transpose [in, out] (PEFT's {@code transpose(·, fan_in_fan_out)}). */
    private NDArray storedDelta() {
        NDArray d = delta();
        return fanInFanOut ? d.transpose() : d;
    }

    /** Folds ΔW into the base weight; refuses if the result is not finite. */
    public void merge() {
        if (merged || r == 0) {
            // a rank-0 layer has ΔW = 0: nothing to fold in
            return;
        }
        NDArray mergedW;
        try (NDScope scope = new NDScope()) {
            mergedW = baseWeight().value().add(storedDelta());
            NDScope.unregister(mergedW);
        }
        if (!mergedW.isInfinite().logicalOr(mergedW.isNaN()).none().getBoolean()) {
            mergedW.close();
            throw new IllegalStateException("merging the AdaLoRA adapter gives non-finite weights; the adapter is left unmerged");
        }
        baseWeight().set(mergedW);
        merged = true;
    }

    /** Subtracts ΔW again, restoring the base weight (up to float rounding). */
    public void unmerge() {
        if (!merged) {
            return;
        }
        NDArray restored;
        try (NDScope scope = new NDScope()) {
            restored = baseWeight().value().sub(storedDelta());
            NDScope.unregister(restored);
        }
        baseWeight().set(restored);
        merged = false;
    }

    @Override
    public long inFeatures() {
        return ((LinearLayer) baseLayer()).inFeatures();
    }

    @Override
    public long outFeatures() {
        return ((LinearLayer) baseLayer()).outFeatures();
    }
}
