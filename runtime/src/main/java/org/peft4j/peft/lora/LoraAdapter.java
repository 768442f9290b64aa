package org.peft4j.peft.lora;

import org.peft4j.tensor.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Parameter;

/**
 * One named adapter of a {@link LoraLinear}: A [r, in], B [out, r], the scaling, its dropout and,
 * with DoRA, the magnitude vector m [out]. A layer holds several of these and shows the active one
 * as its children, so parameter paths stay PEFT's ({@code lora_A.weight}).
 */
final class LoraAdapter {

    final String name;
    final int r;
    final double alpha;
    final double scaling;
    final Dropout dropout;
    final Linear a;
    final Linear b;
    /** DoRA's magnitude m, one value per output feature; null without DoRA. */
    final Parameter magnitude;
    /** ‖W + ΔW‖ per row at merge time, kept so that unmerge divides by exactly what merge multiplied by. */
    NDArray mergedNorm;

    private LoraAdapter(String name, int r, double alpha, double scaling, Dropout dropout, Linear a, Linear b,
                        Parameter magnitude) {
        this.name = name;
        this.r = r;
        this.alpha = alpha;
        this.scaling = scaling;
        this.dropout = dropout;
        this.a = a;
        this.b = b;
        this.magnitude = magnitude;
    }

    /**
     * A new adapter for {@code base}, initialised as {@code init} says. PiSSA changes the base
     * weight (W ← W − s·B A) so that the layer's output is unchanged.
     */
    static LoraAdapter create(String name, Linear base, int r, double alpha, double scaling, double dropout,
                              LoraInit init, boolean dora, NDManager manager) {
        return create(name, base, base.weight(), false, r, alpha, scaling, dropout, init, dora, manager);
    }

    /**
     * @param weight      the base layer's weight
     * @param fanInFanOut the weight is stored [in, out] (GPT-2's Conv1D), not [out, in]
     */
    static LoraAdapter create(String name, LinearLayer base, Parameter weight, boolean fanInFanOut, int r, double alpha,
                              double scaling, double dropout, LoraInit init, boolean dora, NDManager manager) {
        long in = base.inFeatures();
        long out = base.outFeatures();
        Linear a = new Linear(manager, in, r, false);
        Linear b = new Linear(manager, r, out, false);
        switch (init) {
            case KAIMING_UNIFORM: {
                // kaiming_uniform(a=√5) as nn.Linear and PEFT initialise A: bound = √(6 / ((1 + a²)·fan_in)) = 1/√in
                double bound = 1.0 / Math.sqrt(in);
                a.weight().set(manager.randomUniform((float) -bound, (float) bound, new Shape(r, in), DataType.FLOAT32));
                break;
            }
            case GAUSSIAN:
                // PEFT: nn.init.normal_(lora_A, std=1 / r)
                a.weight().set(manager.randomNormal(0f, 1f / r, new Shape(r, in), DataType.FLOAT32));
                break;
            case PISSA:
                initPissa(weight, fanInFanOut, a, b, r, scaling, manager);
                break;
            case OLORA:
                initOlora(weight, a, b, scaling);
                break;
            default:
                throw new IllegalStateException("unhandled init " + init);
        }
        Parameter m = null;
        if (dora) {
            // PEFT's DoRA init: m = ‖W + s·B A‖ over the input dimension (= ‖W‖ row-wise, since B = 0 here)
            try (NDScope ignored = new NDScope()) {
                NDArray norm = weightNorm(outIn(weight.value(), fanInFanOut), b.weight().value().matMul(a.weight().value()),
                        scaling);
                NDScope.unregister(norm);
                m = new Parameter(norm);
            }
        }
        return new LoraAdapter(name, r, alpha, scaling, new Dropout((float) dropout), a, b, m);
    }

    /**
     * PiSSA (Meng et al. 2024, Eq. 2–3), as PEFT does it: W = U S Vᵀ, A = √(S_r / s) V_rᵀ,
     * B = U_r √(S_r / s), then W ← W − s·B A, which keeps the output at step 0.
     */
    private static void initPissa(Parameter weight, boolean fanInFanOut, Linear a, Linear b, int r, double scaling,
                                  NDManager manager) {
        TopSvd svd = TopSvd.of(outIn(weight.value(), fanInFanOut), r);
        try (NDScope ignored = new NDScope()) {
            NDArray root = manager.create(svd.singularValues()).div(scaling).sqrt();      // [r]
            NDArray aw = svd.v().transpose().mul(root.expandDims(1));                       // [r, in]
            NDArray bw = svd.u().mul(root.expandDims(0));                                   // [out, r]
            NDScope.unregister(aw, bw);
            a.weight().set(aw);
            b.weight().set(bw);
            NDArray residual = weight.value().sub(outIn(bw.matMul(aw).mul(scaling), fanInFanOut));
            NDScope.unregister(residual);
            weight.set(residual);
        }
    }

    /**
     * OLoRA as PEFT's {@code olora_init} computes it: W = Q R on the weight as stored, A = R_r,
     * B = Q_r, then W ← W − s·B A. PEFT does not transpose a Conv1D's [in, out] weight here, so
     * only a square one fits (checked before any layer is touched).
     */
    private static void initOlora(Parameter weight, Linear a, Linear b, double scaling) {
        ThinQr qr = ThinQr.of(weight.value(), (int) a.weight().value().getShape().get(0));
        a.weight().set(qr.r());
        b.weight().set(qr.q());
        try (NDScope ignored = new NDScope()) {
            NDArray residual = weight.value().sub(Scalars.mul(qr.q().matMul(qr.r()), scaling));
            NDScope.unregister(residual);
            weight.set(residual);
        }
    }

    /** A weight in PyTorch's [out, in] layout: transposed when it is stored [in, out] (and back again, the same way). */
    static NDArray outIn(NDArray w, boolean fanInFanOut) {
        return fanInFanOut ? w.transpose() : w;
    }

    /** ΔW = s · B A, shape [out, in]. */
    NDArray delta() {
        return b.weight().value().matMul(a.weight().value()).muli((float) scaling);
    }

    /** ‖W + s·BA‖ per output row (norm over the input dimension, PEFT's {@code get_weight_norm}), shape [out]. */
    static NDArray weightNorm(NDArray w, NDArray ba, double scaling) {
        return w.add(Scalars.mul(ba, scaling)).norm(new int[] {1}, false);
    }

    void close() {
        if (mergedNorm != null) {
            mergedNorm.close();
            mergedNorm = null;
        }
    }
}
