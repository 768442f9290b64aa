package org.peft4j.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The bfloat16 products of {@link ComputePrecision#BFLOAT16}, run through {@link TorchBridge} on DJL's
 * float32 arrays: each call casts its operands to bfloat16, multiplies (oneDNN's AVX512-BF16 or AMX
 * kernels, float32 accumulation) and returns float32, so no bfloat16 array ever reaches DJL. The casts
 * are on the autograd graph, so gradients reach the float32 weights and inputs as float32, as under
 * {@code torch.autocast}. Every bytedeco temporary is closed before the call returns; the graph keeps
 * what backward needs.
 */
final class Bf16Kernels {

    /** Weights below this many elements (LoRA's A and B, small heads) gain nothing from the casts. */
    static final long MIN_WEIGHT_ELEMENTS = 16_384;

    private Bf16Kernels() {
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

    /** y = x Wᵀ + b with x, W and b in bfloat16, y returned in float32. */
    static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        try (Tensor tx = TorchBridge.view(x); Tensor tw = TorchBridge.view(weight);
             Tensor xb = bf16(tx); Tensor wb = bf16(tw);
             Tensor tb = bias == null ? null : TorchBridge.view(bias); Tensor bb = tb == null ? null : bf16(tb);
             TensorOptional ob = bb == null ? new TensorOptional() : new TensorOptional(bb);
             Tensor y = torch.linear(xb, wb, ob)) {
            return TorchBridge.adopt(x.getManager(), y.to(torch.ScalarType.Float));
        }
    }

    /**
     * softmax(scale · Q Kᵀ + mask) V (Vaswani et al. 2017, eq. 1) with both products in bfloat16; the
     * scores are widened to float32 before the mask and the softmax (as autocast keeps softmax in
     * float32), dropout applies to the float32 probabilities, which are narrowed again for the product
     * with V. Shapes as {@link Functional#scaledDotProductAttention}.
     */
    static NDArray attention(NDArray q, NDArray k, NDArray v, NDArray mask, double scale, float dropoutP) {
        NDArray probs;
        try (Tensor tq = TorchBridge.view(q); Tensor tk = TorchBridge.view(k); Scalar s = new Scalar(scale);
             Tensor qs = tq.mul(s); Tensor qb = bf16(qs); Tensor kb = bf16(tk); Tensor kt = kb.transpose(-2, -1);
             Tensor scores = torch.matmul(qb, kt);                               // (B, nh, T, S) bf16
             Tensor scores32 = scores.to(torch.ScalarType.Float)) {
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
        try (Tensor tp = TorchBridge.view(probs); Tensor pb = bf16(tp); Tensor tv = TorchBridge.view(v);
             Tensor vb = bf16(tv); Tensor out = torch.matmul(pb, vb)) {             // (B, nh, T, hs) bf16
            return TorchBridge.adopt(q.getManager(), out.to(torch.ScalarType.Float));
        }
    }

    private static Tensor bf16(Tensor t) {
        return t.to(torch.ScalarType.BFloat16);
    }
}
