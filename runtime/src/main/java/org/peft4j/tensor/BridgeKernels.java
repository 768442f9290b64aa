package org.peft4j.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Products run through {@link TorchBridge} on DJL's float32 arrays, in a compute type of their own: each
 * call casts its operands to {@code compute} (bfloat16 for {@link ComputePrecision#BFLOAT16}: oneDNN's
 * AVX512-BF16 or AMX kernels with float32 accumulation), multiplies, and returns float32, so no bfloat16
 * array ever reaches DJL. The casts are on the autograd graph, so gradients reach the float32 weights and
 * inputs as float32, as under {@code torch.autocast}. With {@code compute} float32 the casts are no-ops
 * and the results are the engine's own (the specs hold the bridge to that). Every bytedeco temporary is
 * closed before the call returns; the graph keeps what backward needs.
 */
final class BridgeKernels {

    /** Weights below this many elements (LoRA's A and B, small heads) gain nothing from the casts. */
    static final long MIN_WEIGHT_ELEMENTS = 16_384;

    /** {@code -Dpeft4j.attention=products} keeps inference attention unfused too (for A/B measurement). */
    private static final boolean FUSED_ATTENTION = !"products".equals(System.getProperty("peft4j.attention"));

    /**
     * {@code -Dpeft4j.attention=float32-softmax} keeps the float32 softmax between the bfloat16 products
     * under a gradient tape ({@link #products}; for A/B measurement).
     */
    private static final boolean FLOAT32_SOFTMAX = "float32-softmax".equals(System.getProperty("peft4j.attention"));

    private BridgeKernels() {
    }

    /** Whether {@link #linear} should take this product: float32 operands on the CPU, a weight big enough. */
    static boolean takesLinear(NDArray x, NDArray weight) {
        return x.getDataType() == DataType.FLOAT32 && weight.getDataType() == DataType.FLOAT32
                && weight.size() >= MIN_WEIGHT_ELEMENTS && !x.getDevice().isGpu();
    }

    /** Whether {@link #attention} should take these operands: float32 on the CPU. */
    static boolean takesAttention(NDArray q, NDArray mask) {
        return q.getDataType() == DataType.FLOAT32 && !q.getDevice().isGpu()
                && (mask == null || mask.getDataType() == DataType.FLOAT32);
    }

    /** y = x Wᵀ + b with x, W and b in {@code compute}, y returned in float32. */
    static NDArray linear(NDArray x, NDArray weight, NDArray bias, ScalarType compute) {
        try (Tensor tx = TorchBridge.view(x); Tensor tw = TorchBridge.view(weight);
             Tensor xc = tx.to(compute); Tensor wc = tw.to(compute);
             Tensor tb = bias == null ? null : TorchBridge.view(bias); Tensor bc = tb == null ? null : tb.to(compute);
             TensorOptional ob = bc == null ? new TensorOptional() : new TensorOptional(bc);
             Tensor y = torch.linear(xc, wc, ob)) {
            return TorchBridge.adopt(x.getManager(), y.to(ScalarType.Float));
        }
    }

    /**
     * A transformer's feed-forward network as far as its second product, down(GELU(up(x))): x, both
     * weights and both biases cast to {@code compute}, the (…, I) activation kept in {@code compute}
     * between the two products, the result returned in float32. Run as separate calls, the wide
     * activation would cross to float32 and back in forward and again in backward: the largest casts of
     * a step after attention's. GELU runs on the bfloat16 activation as under {@code torch.autocast}; it
     * computes in float32 inside and rounds its output once, which the separate path did too when it cast
     * GELU's output for the second product.
     */
    static NDArray geluFeedForward(NDArray x, NDArray upWeight, NDArray upBias, NDArray downWeight,
                                   NDArray downBias, ScalarType compute) {
        try (Tensor tx = TorchBridge.view(x); Tensor xc = tx.to(compute);
             Tensor tu = TorchBridge.view(upWeight); Tensor uc = tu.to(compute);
             Tensor tub = upBias == null ? null : TorchBridge.view(upBias);
             Tensor ubc = tub == null ? null : tub.to(compute);
             TensorOptional oub = ubc == null ? new TensorOptional() : new TensorOptional(ubc);
             Tensor td = TorchBridge.view(downWeight); Tensor dc = td.to(compute);
             Tensor tdb = downBias == null ? null : TorchBridge.view(downBias);
             Tensor dbc = tdb == null ? null : tdb.to(compute);
             TensorOptional odb = dbc == null ? new TensorOptional() : new TensorOptional(dbc);
             Tensor h = torch.linear(xc, uc, oub);                                  // (..., I) in compute
             Tensor g = torch.gelu(h);
             Tensor y = torch.linear(g, dc, odb)) {
            return TorchBridge.adopt(x.getManager(), y.to(ScalarType.Float));
        }
    }

    /**
     * softmax(scale · Q Kᵀ + mask) V (Vaswani et al. 2017, eq. 1), shapes as
     * {@link Functional#scaledDotProductAttention}. Where no graph is recorded (inference, evaluation) it is
     * libtorch's fused {@code scaled_dot_product_attention} (on the CPU its flash kernel, blocks of keys at a
     * time). Under a gradient tape it is two products in {@code compute} with the softmax between them
     * ({@link #productsInCompute}): the fused kernel's backward measured slower than the two products'
     * (MiniLM's 32 × 12 × 128 × 32, forward and backward: 984 against 775 ms, medians of 9 interleaved rounds
     * on a loaded machine), and libtorch's fused kernels have no dropout on the CPU.
     */
    static NDArray attention(NDArray q, NDArray k, NDArray v, NDArray mask, double scale, float dropoutP,
                             ScalarType compute) {
        TorchBridge.require();
        boolean fused = FUSED_ATTENTION && dropoutP == 0f && !GradMode.is_enabled();
        if (fused) {
            return fused(q, k, v, mask, scale, compute);
        }
        // the bfloat16 keep-mask is written through one ByteBuffer: 2 bytes an element, an int's reach
        long probs = q.size() / q.getShape().tail() * k.getShape().get(k.getShape().dimension() - 2);
        boolean softmaxInCompute = compute == ScalarType.BFloat16 && !FLOAT32_SOFTMAX
                && (dropoutP == 0f || (Functional.javaMasks() && probs < (Integer.MAX_VALUE - 8) / 2));
        return softmaxInCompute ? productsInCompute(q, k, v, mask, scale, dropoutP, compute)
                : products(q, k, v, mask, scale, dropoutP, compute);
    }

    static NDArray fused(NDArray q, NDArray k, NDArray v, NDArray mask, double scale, ScalarType compute) {
        try (Tensor tq = TorchBridge.view(q); Tensor tk = TorchBridge.view(k); Tensor tv = TorchBridge.view(v);
             Tensor qc = tq.to(compute); Tensor kc = tk.to(compute); Tensor vc = tv.to(compute);
             // the mask stays float32: a float32 minimum narrowed to bfloat16 rounds to -inf
             Tensor tm = mask == null ? null : TorchBridge.view(mask);
             TensorOptional om = tm == null ? new TensorOptional() : new TensorOptional(tm);
             DoubleOptional s = new DoubleOptional(scale);
             Tensor out = torch.scaled_dot_product_attention(qc, kc, vc, om, 0.0, false, s, false)) {
            return TorchBridge.adopt(q.getManager(), out.to(ScalarType.Float));
        }
    }

    /** bfloat16's lowest finite value: a float32 mask's minimum clamped here stays finite in bfloat16. */
    static final double LOWEST_BFLOAT16 = -0x1.fep127;

    /**
     * The two products around a float32 softmax, as {@code torch.autocast} runs attention: the scores widen
     * to float32, the probabilities (and their dropout, through {@link Functional#dropout}) are float32 and
     * narrow again for the second product. Used in float32 (where every cast is a no-op) and where the
     * bfloat16 softmax is switched off or the dropout draws from the engine.
     */
    static NDArray products(NDArray q, NDArray k, NDArray v, NDArray mask, double scale, float dropoutP,
                                    ScalarType compute) {
        NDArray probs;
        try (Tensor tq = TorchBridge.view(q); Tensor tk = TorchBridge.view(k); Scalar s = new Scalar(scale);
             Tensor qs = tq.mul(s); Tensor qc = qs.to(compute); Tensor kc = tk.to(compute);
             Tensor kt = kc.transpose(-2, -1);
             Tensor scores = torch.matmul(qc, kt);                               // (B, nh, T, S)
             Tensor scores32 = scores.to(ScalarType.Float)) {
            if (mask != null) {
                try (Tensor tm = TorchBridge.view(mask)) {
                    // in place: the widening's backward needs neither its input nor its output. add_ returns
                    // scores32 itself (JavaCPP hands back the same object), so its result is not closed here
                    scores32.add_(tm);
                }
            }
            Tensor p = torch.softmax(scores32, -1);
            probs = TorchBridge.adopt(q.getManager(), p);                       // (B, nh, T, S) f32
        }
        if (dropoutP > 0f) {
            probs = Functional.dropout(probs, dropoutP);
        }
        try (Tensor tp = TorchBridge.view(probs); Tensor pc = tp.to(compute); Tensor tv = TorchBridge.view(v);
             Tensor vc = tv.to(compute); Tensor out = torch.matmul(pc, vc)) {   // (B, nh, T, hs)
            return TorchBridge.adopt(q.getManager(), out.to(ScalarType.Float));
        }
    }

    /**
     * The two products with the softmax and the dropout between them in {@code compute} (bfloat16): the
     * (B, nh, T, S) scores and probabilities never cross to float32, which the float32 softmax of
     * {@link #products} does four times a step (scores and probabilities, forward and backward), plus the
     * widening of a boolean mask in each product of the dropout; these were the largest casts of a bfloat16
     * step. The softmax computes in float32 inside libtorch's CPU kernel and rounds the probabilities to
     * bfloat16 once, as the float32 path did when it narrowed them for the second product; the dropout
     * multiplies by a bfloat16 keep-mask of 0 and 1 ({@link DropoutMasks#keepBfloat16Bits}, the same draw
     * as the boolean mask) and then by 1 / (1 − p), which rounds the kept probabilities a second time.
     * The additive mask is clamped to bfloat16's lowest finite value before it narrows, so that a float32
     * minimum stays finite and a fully masked row stays uniform rather than NaN.
     */
    static NDArray productsInCompute(NDArray q, NDArray k, NDArray v, NDArray mask, double scale, float dropoutP,
                                     ScalarType compute) {
        try (Tensor tq = TorchBridge.view(q); Tensor tk = TorchBridge.view(k); Scalar s = new Scalar(scale);
             Tensor qs = tq.mul(s); Tensor qc = qs.to(compute); Tensor kc = tk.to(compute);
             Tensor kt = kc.transpose(-2, -1);
             Tensor scores = torch.matmul(qc, kt)) {                              // (B, nh, T, S)
            if (mask != null) {
                try (Tensor tm = TorchBridge.view(mask); Scalar lowest = new Scalar(LOWEST_BFLOAT16);
                     Tensor clamped = tm.clamp_min(lowest); Tensor mc = clamped.to(compute)) {
                    scores.add_(mc);
                }
            }
            try (Tensor p = torch.softmax(scores, -1)) {
                if (dropoutP == 0f) {
                    try (Tensor tv = TorchBridge.view(v); Tensor vc = tv.to(compute);
                         Tensor out = torch.matmul(p, vc)) {
                        return TorchBridge.adopt(q.getManager(), out.to(ScalarType.Float));
                    }
                }
                try (NDArray keep = DropoutMasks.keepBfloat16Bits(q.getManager(), new Shape(p.sizes().vec().get()),
                        dropoutP);
                     Tensor tkeep = TorchBridge.view(keep); Tensor kb = tkeep.view(ScalarType.BFloat16);
                     Scalar keepScale = new Scalar(1.0 / (1.0 - dropoutP));
                     Tensor dropped = p.mul(kb);
                     Tensor tv = TorchBridge.view(v); Tensor vc = tv.to(compute)) {
                    dropped.mul_(keepScale);
                    try (Tensor out = torch.matmul(dropped, vc)) {
                        return TorchBridge.adopt(q.getManager(), out.to(ScalarType.Float));
                    }
                }
            }
        }
    }
}
