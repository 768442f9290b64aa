package org.peft4j.peft.lora;

import org.peft4j.tensor.Functional;
import org.peft4j.tensor.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.peft.AdapterLayer;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A frozen linear layer plus a low-rank update (Hu et al. 2021, Eq. 3):
 * h = W₀x + s · B A x, with A: r×in, B: out×r and s = α/r (α/√r with rsLoRA). With DoRA
 * (Liu et al. 2024, Eq. 5) the updated weight is rescaled per output row:
 * W' = m · (W₀ + s·B A) / ‖W₀ + s·B A‖.
 *
 * <p>The base layer is held, not copied, under the child name {@code base_layer} (as Hugging Face
 * PEFT names it), and stays untouched until {@link #merge()} (PiSSA's initialisation is the one
 * exception: it moves the top singular part of W into the adapter). A layer may hold several
 * named adapters; the active one appears as the children {@code lora_A}, {@code lora_B},
 * {@code lora_dropout} and the parameter {@code lora_magnitude_vector}, so that parameter paths
 * are the ones PEFT writes to disk.
 */
public final class LoraLinear extends Module implements AdapterLayer {

    /** The adapter name PEFT uses when none is given. */
    public static final String DEFAULT = "default";
    static final String MAGNITUDE = "lora_magnitude_vector";

    private final Map<String, LoraAdapter> adapters = new LinkedHashMap<>();
    private LoraAdapter active;
    private boolean merged;
    private boolean disabled;
    private boolean idle;
    private final boolean fanInFanOut;

    /**
     * A layer with one adapter named {@value #DEFAULT}, A ~ kaiming-uniform and B = 0.
     *
     * @param base    the layer to adapt (frozen by the caller)
     * @param r       rank
     * @param alpha   scaling numerator (s = α / r)
     * @param dropout dropout on the adapter's input
     */
    public LoraLinear(Linear base, int r, double alpha, double dropout, NDManager manager) {
        this(base, LoraAdapter.create(DEFAULT, base, r, alpha, alpha / r, dropout, LoraInit.KAIMING_UNIFORM, false,
                manager));
    }

    LoraLinear(Linear base, LoraAdapter first) {
        this(base, false, first);
    }

    /**
     * @param base        a linear-like module with a 2-D {@code weight} parameter
     * @param fanInFanOut its weight is stored [in, out] (GPT-2's Conv1D), not [out, in]
     */
    LoraLinear(Module base, boolean fanInFanOut, LoraAdapter first) {
        if (!(base instanceof LinearLayer) || base.parameters().get("weight") == null) {
            throw new IllegalArgumentException(base.getClass().getSimpleName() + " is not a linear layer with a weight");
        }
        this.fanInFanOut = fanInFanOut;
        addChild("base_layer", base);
        addChild("lora_dropout", first.dropout);
        addChild("lora_A", first.a);
        addChild("lora_B", first.b);
        adapters.put(first.name, first);
        show(first);
    }

    /** Adds another named adapter; the active one stays active. */
    void addAdapter(LoraAdapter adapter) {
        if (adapters.containsKey(adapter.name)) {
            throw new IllegalArgumentException("adapter '" + adapter.name + "' already exists on this layer; adapters: "
                    + adapters.keySet());
        }
        adapters.put(adapter.name, adapter);
    }

    /** Makes the named adapter the one that runs, trains and is saved; refuses while merged. */
    void setAdapter(String name) {
        LoraAdapter next = adapter(name);
        if (next == active) {
            return;
        }
        if (merged) {
            throw new IllegalStateException("cannot switch to adapter '" + name + "' while '" + active.name
                    + "' is merged; unmerge() first");
        }
        show(next);
    }

    /**
     * Removes an adapter and frees its arrays. The shown adapter can only go while the layer is
     * idle, and another one is shown instead; the last adapter cannot go (unwrap the layer instead).
     */
    void deleteAdapter(String name) {
        LoraAdapter a = adapter(name);
        if (adapters.size() == 1) {
            throw new IllegalStateException("adapter '" + name + "' is the last one on this layer; unwrap the layer instead");
        }
        if (a == active) {
            if (!idle || merged) {
                throw new IllegalStateException("cannot delete the active adapter '" + name + "'; setAdapter to another first");
            }
            adapters.remove(name);
            show(adapters.values().iterator().next());
        }
        adapters.remove(name);
        a.close();
        a.a.weight().value().close();
        a.b.weight().value().close();
        if (a.magnitude != null) {
            a.magnitude.value().close();
        }
    }

    Set<String> adapterNames() {
        return Collections.unmodifiableSet(adapters.keySet());
    }

    boolean hasAdapter(String name) {
        return adapters.containsKey(name);
    }

    private LoraAdapter adapter(String name) {
        LoraAdapter a = adapters.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no adapter '" + name + "' on this layer; adapters: " + adapters.keySet());
        }
        return a;
    }

    private void show(LoraAdapter a) {
        replaceChild("lora_dropout", a.dropout);
        replaceChild("lora_A", a.a);
        replaceChild("lora_B", a.b);
        removeParameter(MAGNITUDE);
        if (a.magnitude != null) {
            addParameter(MAGNITUDE, a.magnitude);
        }
        active = a;
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

    /** The base layer's bias, or null. */
    public Parameter baseBias() {
        return baseLayer().parameters().get("bias");
    }

    /** The base weight is stored [in, out] (GPT-2's Conv1D). */
    @Override
    public boolean fanInFanOut() {
        return fanInFanOut;
    }

    public Linear loraA() {
        return active.a;
    }

    public Linear loraB() {
        return active.b;
    }

    /** DoRA's magnitude vector m [out] of the active adapter, or null without DoRA. */
    public Parameter magnitude() {
        return active.magnitude;
    }

    public String activeAdapter() {
        return active.name;
    }

    public int rank() {
        return active.r;
    }

    public double scaling() {
        return active.scaling;
    }

    public boolean isMerged() {
        return merged;
    }

    /** While disabled the layer computes the base output only (PEFT's {@code disable_adapter}). */
    void setDisabled(boolean off) {
        disabled = off;
    }

    /** Idle: the model's active adapter does not cover this layer, so it computes the base output only. */
    void setIdle(boolean on) {
        idle = on;
    }

    boolean isIdle() {
        return idle;
    }

    /** The parameters that belong to the active adapter, by their names inside this layer. */
    public Map<String, Parameter> adapterParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        out.put("lora_A.weight", loraA().weight());
        out.put("lora_B.weight", loraB().weight());
        if (active.magnitude != null) {
            out.put(MAGNITUDE, active.magnitude);
        }
        return out;
    }

    @Override
    public NDArray forward(NDArray x) {
        NDArray h = ((LinearLayer) baseLayer()).forward(x);
        if (merged || disabled || idle) {
            return h;
        }
        Dropout dropout = active.dropout;
        NDArray dx = dropout.forward(x);
        // two thin matmuls; the scaling is applied to the r-wide intermediate, the smallest tensor on the path
        NDArray lora = active.b.forward(Scalars.mul(active.a.forward(dx), active.scaling));
        if (active.magnitude == null) {
            // in place; over a half-precision base the float32 update is added in half precision
            return h.addi(lora);
        }
        return h.addi(doraTerm(x, dx, h, lora));
    }

    /**
     * DoRA's correction on top of the base output, as PEFT's {@code DoraLinearLayer.forward}:
     * (m/‖W+ΔW‖ − 1) · W x̃ + (m/‖W+ΔW‖) · s·B A x̃. The norm is detached from the graph, as PEFT does
     * following the paper's §4.3 (it saves memory and the paper finds no loss in accuracy), so
     * gradients reach m, A and B only through the numerator.
     */
    private NDArray doraTerm(NDArray x, NDArray dx, NDArray h, NDArray lora) {
        NDArray w = LoraAdapter.outIn(baseWeight().value(), fanInFanOut);
        Parameter bias = baseBias();
        NDArray norm = LoraAdapter.weightNorm(w, active.b.weight().value().matMul(active.a.weight().value()),
                active.scaling).stopGradient();
        NDArray scale = active.magnitude.value().div(norm);                       // [out]
        NDArray wx;
        if (dx == x) {
            // no dropout ran: reuse the base output without its bias instead of a second matmul
            wx = bias == null ? h : h.sub(bias.value());
        } else {
            wx = Functional.linear(dx, w, null);
        }
        return wx.mul(scale.sub(1f)).addi(lora.mul(scale));
    }

    /** ΔW = s · B A of the active adapter, shape [out, in]. */
    public NDArray delta() {
        return active.delta();
    }

    /**
     * Folds the active adapter into the base weight, so inference costs one matmul; refuses if the
     * result is not finite. With DoRA: W ← m · (W + ΔW) / ‖W + ΔW‖.
     */
    public void merge() {
        if (merged) {
            return;
        }
        NDArray mergedW;
        try (NDScope scope = new NDScope()) {
            NDArray w = LoraAdapter.outIn(baseWeight().value(), fanInFanOut);
            NDArray updated = w.add(active.delta());
            if (active.magnitude != null) {
                NDArray norm = updated.norm(new int[] {1}, false);
                NDScope.unregister(norm);
                active.close();
                active.mergedNorm = norm;
                updated = updated.mul(active.magnitude.value().div(norm).expandDims(1));
            }
            mergedW = LoraAdapter.outIn(updated, fanInFanOut);
            NDScope.unregister(mergedW);
        }
        if (!mergedW.isInfinite().logicalOr(mergedW.isNaN()).none().getBoolean()) {
            mergedW.close();
            active.close();
            throw new IllegalStateException("merging the adapter gives non-finite weights; the adapter is left unmerged");
        }
        baseWeight().set(mergedW);
        merged = true;
    }

    /** Takes the active adapter out of the base weight again, restoring it up to float rounding. */
    public void unmerge() {
        if (!merged) {
            return;
        }
        NDArray restored;
        try (NDScope scope = new NDScope()) {
            NDArray w = LoraAdapter.outIn(baseWeight().value(), fanInFanOut);
            if (active.magnitude != null) {
                // divide by exactly the factor merge multiplied by: m / ‖W + ΔW‖ with the norm kept from merge
                w = w.div(active.magnitude.value().div(active.mergedNorm).expandDims(1));
            }
            restored = LoraAdapter.outIn(w.sub(active.delta()), fanInFanOut);
            NDScope.unregister(restored);
        }
        active.close();
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
