package org.peft4j.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The engine's neural-network operations, as functions of arrays: what {@code torch.nn.functional}
 * is to PyTorch. Layers in {@code nn} and {@code models} call these rather than the engine, so a
 * second engine (or a fused kernel for one op) replaces them here.
 */
public final class Functional {

    /** {@code -Dpeft4j.dropout=engine} uses libtorch's dropout on the CPU too (for A/B measurement). */
    static volatile boolean engineDropoutOnCpu = "engine".equals(System.getProperty("peft4j.dropout"));

    /**
     * Sends float32 products through {@link BridgeKernels} too, in float32: how the specs hold the bridge
     * (zero-copy views, adopted results, the shared autograd graph) to the engine's own results.
     */
    static volatile boolean float32ThroughBridge;

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    private Functional() {
    }

    /**
     * y = x Wᵀ + b, one fused call (addmm): the weight [out, in] is read in place, never transposed
     * into a copy.
     *
     * @param bias [out], or null
     */
    public static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        ScalarType bridged = bridgedType();
        if (bridged != null && BridgeKernels.takesLinear(x, weight)) {
            return BridgeKernels.linear(x, weight, bias, bridged);
        }
        return ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow();
    }

    /**
     * Whether {@link #geluFeedForward} keeps its wide activation in the products' compute type: products
     * go through the bridge and both weights are big enough for it. Where this is false, callers run
     * their layers one by one, as without the bridge.
     */
    public static boolean fusesFeedForward(NDArray x, NDArray upWeight, NDArray downWeight) {
        return FUSED_FEED_FORWARD && bridgedType() != null && BridgeKernels.takesLinear(x, upWeight)
                && BridgeKernels.takesLinear(x, downWeight)
                && upWeight.getShape().get(0) == downWeight.getShape().get(1);
    }

    /** {@code -Dpeft4j.feedForward=separate} runs the feed-forward's products one by one (for A/B measurement). */
    private static final boolean FUSED_FEED_FORWARD = !"separate".equals(System.getProperty("peft4j.feedForward"));

    /**
     * down(GELU(up(x))) with the exact GELU: a feed-forward network up to its second product, in one call
     * where {@link #fusesFeedForward} says so, else as the three ops one after another.
     *
     * @param x          (..., H)
     * @param upWeight   [I, H]
     * @param downWeight [H, I]
     * @return (..., H)
     */
    public static NDArray geluFeedForward(NDArray x, NDArray upWeight, NDArray upBias, NDArray downWeight,
                                          NDArray downBias) {
        ScalarType bridged = bridgedType();
        if (bridged != null && fusesFeedForward(x, upWeight, downWeight)) {
            return BridgeKernels.geluFeedForward(x, upWeight, upBias, downWeight, downBias, bridged);
        }
        return linear(gelu(linear(x, upWeight, upBias)), downWeight, downBias);
    }

    /** LayerNorm over the last dimension (Ba et al. 2016): (x − mean) / √(var + ε) · weight + bias. */
    public static NDArray layerNorm(NDArray x, NDArray weight, NDArray bias, float eps) {
        return ai.djl.nn.norm.LayerNorm.layerNorm(x, weight.getShape(), weight, bias, eps).singletonOrThrow();
    }

    /**
     * Root-mean-square norm (Zhang &amp; Sennrich 2019, eq. 4): x / √(mean(x²) + ε) · g, with the mean of
     * squares in float32 whatever the weight's dtype: in half precision x² overflows above 256 and the
     * mean loses the small components (HF's LlamaRMSNorm upcasts the same way). The result is in g's dtype.
     */
    public static NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
        NDArray x32 = Precision.float32(x);
        NDArray meanSquare = x32.square().mean(new int[] {-1}, true);   // (..., 1)
        NDArray rms = meanSquare.add(eps).sqrt();                         // (..., 1)
        // out of place: these tensors are on the autograd graph during training
        return Precision.like(x32.div(rms), weight).mul(weight);
    }

    /** Rows of {@code weight} [num, dim] gathered by integer ids: (...) -> (..., dim). */
    public static NDArray embedding(NDArray ids, NDArray weight) {
        return ai.djl.nn.core.Embedding.embedding(ids, weight, SparseFormat.DENSE).singletonOrThrow();
    }

    /**
     * Inverted dropout with probability {@code p} in (0, 1): each element kept with probability
     * 1 − p and scaled by 1 / (1 − p).
     *
     * <p>On the CPU the keep-mask is drawn as {@code u ≥ p} with u ~ U[0, 1) in float32, and the graph
     * keeps that mask as booleans (each multiply widens it to a float temporary, freed at once).
     * libtorch's own CPU dropout draws {@code bernoulli_(1 − p)} and keeps a float mask; on this
     * project's AMD machine that draw runs serially at two 32-bit Mersenne-Twister draws per element
     * (double precision). Measured there, forward and backward of a (32, 12, 128, 128) dropout: 7.4 ns
     * per element with the engine's, 4.7 with this one, and 1 byte instead of 4 of saved activation per
     * element. Each element is still kept independently with probability 1 − p (to float32's 2⁻²⁴
     * resolution). On a GPU the engine's fused dropout is used.
     */
    public static NDArray dropout(NDArray x, float p) {
        if (engineDropoutOnCpu || x.getDevice().isGpu()) {
            return ai.djl.nn.norm.Dropout.dropout(x, p, true).singletonOrThrow();
        }
        NDArray keep;
        if (javaMasks() && x.size() < Integer.MAX_VALUE - 8) {
            keep = DropoutMasks.keep(x.getManager(), x.getShape(), p);
        } else {
            DataType uniform = x.getDataType() == DataType.FLOAT64 ? DataType.FLOAT64 : DataType.FLOAT32;
            try (NDArray u = x.getManager().randomUniform(0f, 1f, x.getShape(), uniform, x.getDevice())) {
                keep = u.gte(p);
            }
        }
        try (keep) {
            // x·keep saves only the boolean mask for backward; the in-place scaling saves only its 0-d factor
            return Scalars.muli(x.mul(keep), 1.0 / (1.0 - p));
        }
    }

    /**
     * Whether keep-masks come from {@link DropoutMasks} (with bfloat16 products, or
     * {@code -Dpeft4j.dropout=java}) rather than the engine's uniform draw ({@code -Dpeft4j.dropout=uniform}).
     * A float32 run keeps the engine's draw, so its random stream, and every figure seeded from it, stays
     * what it was.
     */
    static boolean javaMasks() {
        String mode = System.getProperty("peft4j.dropout", "");
        if (mode.equals("java")) {
            return TorchBridge.available();
        }
        return !mode.equals("uniform") && ComputePrecision.current() == ComputePrecision.BFLOAT16;
    }

    /** The compute type of products that go through the bridge, or null for the engine's own path. */
    private static ScalarType bridgedType() {
        if (ComputePrecision.current() == ComputePrecision.BFLOAT16) {
            return ScalarType.BFloat16;
        }
        return float32ThroughBridge ? ScalarType.Float : null;
    }

    /** GELU with the exact erf (Hendrycks &amp; Gimpel 2016): x Φ(x). */
    public static NDArray gelu(NDArray x) {
        return Activation.gelu(x);
    }

    /**
     * GELU, tanh approximation (Hendrycks &amp; Gimpel 2016, §2): 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))),
     * Hugging Face's {@code gelu_new} and {@code gelu_pytorch_tanh}.
     */
    public static NDArray geluTanh(NDArray x) {
        NDArray inner = Scalars.mul(x.add(Scalars.mul(Scalars.pow(x, 3), 0.044715)), SQRT_2_OVER_PI);
        return Scalars.mul(x.mul(inner.tanh().add(1)), 0.5);
    }

    /** σ(x) = 1 / (1 + e^−x). */
    public static NDArray sigmoid(NDArray x) {
        return Activation.sigmoid(x);
    }

    /** SiLU (swish): x σ(x). */
    public static NDArray silu(NDArray x) {
        return x.mul(Activation.sigmoid(x));
    }

    /**
     * Scaled dot-product attention (Vaswani et al. 2017, eq. 1): softmax(scale · Q Kᵀ + mask) V.
     * q is scaled before the product rather than the scores: (B, nh, T, hs) elements instead of
     * (B, nh, T, S). A float32 mask over half-precision scores makes the softmax run in float32 (as
     * HF's eager attention does); the probabilities return to v's dtype.
     *
     * @param q        (B, nh, T, hs)
     * @param k        (B, nh, S, hs)
     * @param v        (B, nh, S, hs)
     * @param mask     additive, broadcastable to (B, nh, T, S): 0 where a query may attend, a large
     *                 negative number elsewhere; or null
     * @param scale    usually 1 / √hs
     * @param dropoutP dropout on the probabilities, 0 for none (evaluation)
     * @return (B, nh, T, hs)
     */
    public static NDArray scaledDotProductAttention(NDArray q, NDArray k, NDArray v, NDArray mask, double scale,
                                                    float dropoutP) {
        ScalarType bridged = bridgedType();
        if (bridged != null && BridgeKernels.takesAttention(q, mask)) {
            return BridgeKernels.attention(q, k, v, mask, scale, dropoutP, bridged);
        }
        NDArray scores = Scalars.mul(q, scale).matMul(k.transpose(0, 1, 3, 2));       // (B, nh, T, S)
        if (mask != null) {
            // in place when the dtypes agree: the product's backward needs q and k, not its output
            scores = mask.getDataType() == scores.getDataType() ? scores.addi(mask) : scores.add(mask);
        }
        NDArray probs = Precision.like(scores.softmax(-1), v);                          // (B, nh, T, S)
        if (dropoutP > 0f) {
            probs = dropout(probs, dropoutP);
        }
        return probs.matMul(v);                                                         // (B, nh, T, hs)
    }
}
