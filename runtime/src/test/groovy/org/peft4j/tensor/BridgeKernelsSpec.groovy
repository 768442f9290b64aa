package org.peft4j.tensor

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import org.bytedeco.pytorch.global.torch.ScalarType
import spock.lang.Specification

/**
 * Products through bytedeco's binding on DJL's libtorch: the same numbers as the engine in float32, bfloat16's
 * rounding and no more in bfloat16, and gradients that reach DJL's arrays through DJL's tape either way.
 */
class BridgeKernelsSpec extends Specification {

    /**
     * bfloat16 keeps 8 significant bits (relative rounding 2⁻⁹ per operand); over sums of a few hundred
     * products of random signs the error relative to the result's largest element stays near 1 %.
     */
    static final double BF16_TOLERANCE = 2e-2

    NDManager m = Backend.get().manager()

    def setupSpec() {
        Backend.get()
    }

    def setup() {
        Backend.get().seed(7)
    }

    NDArray normal(long... shape) {
        m.randomNormal(0f, 1f, new Shape(shape), DataType.FLOAT32)
    }

    /** Output and the gradients of every input of {@code fn}, under a weighted-sum loss. */
    List<float[]> valueAndGradients(List<NDArray> inputs, Closure<NDArray> fn) {
        List<NDArray> leaves = inputs.collect { it.duplicate() }
        leaves.each { it.setRequiresGradient(true) }
        try (def s = new StepScope(); def tape = Backend.get().newGradientTape()) {
            NDArray y = fn(leaves)
            NDArray weights = m.arange((float) y.size()).reshape(y.shape).sin()
            tape.backward(y.mul(weights).sum())
            [y.toFloatArray()] + leaves.collect { it.getGradient().toFloatArray() }
        }
    }

    static double relativeError(float[] got, float[] want) {
        double worst = 0, scale = 0
        for (int i = 0; i < want.length; i++) {
            worst = Math.max(worst, Math.abs(got[i] - want[i]))
            scale = Math.max(scale, Math.abs(want[i]))
        }
        worst / scale
    }

    static double maxAbsDifference(float[] a, float[] b) {
        (0..<a.length).collect { Math.abs(a[it] - b[it]) as double }.max()
    }

    def "the bridge loads on the engine's libtorch"() {
        expect:
        TorchBridge.unavailableReason() == null
    }

    def "an array crosses the bridge without a copy: a write through the view is the engine's array"() {
        given:
        NDArray x = m.zeros(new Shape(3, 4))

        when:
        def view = TorchBridge.view(x)
        view.add_(new org.bytedeco.pytorch.Scalar(2.5d))
        view.close()

        then:
        x.toFloatArray() == [2.5f] * 12 as float[]
    }

    def "float32 attention through the bridge equals the engine's to 1e-5: the products with their gradients, the fused kernel"() {
        given: 'a padding mask over the last two keys of the second sequence'
        def mask = m.zeros(new Shape(2, 1, 1, 16))
        mask.set(new ai.djl.ndarray.index.NDIndex('1, :, :, 14:'), -3.4028234663852886e38f)
        def inputs = [normal(2, 3, 16, 8), normal(2, 3, 16, 8), normal(2, 3, 16, 8)]
        def bridged = { q, k, v -> BridgeKernels.attention(q, k, v, mask, 1 / Math.sqrt(8), 0f, ScalarType.Float) }

        when: 'under a tape: the two products'
        def engine = valueAndGradients(inputs) { q, k, v -> engineAttention(q, k, v, mask) }
        def bridge = valueAndGradients(inputs, bridged)

        then: 'output, dq, dk, dv'
        (0..3).every { maxAbsDifference(bridge[it], engine[it]) <= 1e-5 }

        when: 'without a graph: the fused kernel'
        def fused = bridged(*inputs).toFloatArray()

        then:
        maxAbsDifference(fused, engine[0]) <= 1e-5
    }

    def "a #compute linear through the bridge: values and gradients within #tolerance of the engine's float32"() {
        given:
        def inputs = [normal(4, 32, 384), normal(384, 384), normal(384)]

        when:
        def engine = valueAndGradients(inputs) { x, w, b -> ai.djl.nn.core.Linear.linear(x, w, b).singletonOrThrow() }
        def bridge = valueAndGradients(inputs) { x, w, b -> BridgeKernels.linear(x, w, b, compute) }

        then: 'output, dx, dW, db; in bfloat16 close to float32 but not equal (the products did run in bfloat16)'
        (0..3).every { error(bridge[it], engine[it]) <= tolerance }
        compute == ScalarType.Float || relativeError(bridge[0], engine[0]) > 1e-5

        where:
        compute             | error                                | tolerance
        ScalarType.Float    | BridgeKernelsSpec.&maxAbsDifference  | 1e-5
        ScalarType.BFloat16 | BridgeKernelsSpec.&relativeError     | BF16_TOLERANCE
    }

    def "a #compute feed-forward down(GELU(up(x))) in one bridge call equals the same products made one by one, bit for bit"() {
        given: 'x, up [I, H] and its bias, down [H, I] and its bias'
        def inputs = [normal(4, 32, 128), normal(512, 128).div(8), normal(512), normal(128, 512).div(16), normal(128)]

        when: 'the fused call, the bridge one product at a time in the same compute type, the engine in float32'
        def fused = valueAndGradients(inputs) { x, wu, bu, wd, bd ->
            BridgeKernels.geluFeedForward(x, wu, bu, wd, bd, compute)
        }
        def separate = valueAndGradients(inputs) { x, wu, bu, wd, bd ->
            def up = BridgeKernels.linear(x, wu, bu, compute)
            BridgeKernels.linear(ai.djl.nn.Activation.gelu(up), wd, bd, compute)
        }
        def engine = valueAndGradients(inputs) { x, wu, bu, wd, bd ->
            def lin = { a, w, b -> ai.djl.nn.core.Linear.linear(a, w, b).singletonOrThrow() }
            lin(ai.djl.nn.Activation.gelu(lin(x, wu, bu)), wd, bd)
        }

        then: 'output, dx and the four weight gradients bit for bit as the separate products: GELU rounds once either way'
        (0..5).every { fused[it] == separate[it] }

        // the output bias gradient is left out against float32: a sum of bfloat16-rounded gradients with
        // cancellations, the same with or without the fusion (bit for bit, above)
        and: 'output, dx and the up/down weight gradients near the engine: to 1e-6 in float32, within tolerance in bfloat16'
        (0..4).every { relativeError(fused[it], engine[it]) <= engineTolerance }
        compute == ScalarType.Float || relativeError(fused[0], engine[0]) > 1e-5

        where:
        compute             | engineTolerance
        ScalarType.Float    | 1e-6
        ScalarType.BFloat16 | BF16_TOLERANCE
    }

    def "with bfloat16 selected, Functional fuses the feed-forward; without, it runs the engine's three ops bit for bit"() {
        given:
        def x = normal(2, 8, 128)
        def wu = normal(256, 128).div(8)
        def wd = normal(128, 256).div(16)

        when:
        boolean fusedInFloat32 = Functional.fusesFeedForward(x, wu, wd)
        def exact = Functional.geluFeedForward(x, wu, null, wd, null).toFloatArray()
        def separate = Functional.linear(Functional.gelu(Functional.linear(x, wu, null)), wd, null).toFloatArray()
        ComputePrecision.use(ComputePrecision.BFLOAT16)
        boolean fusedInBfloat16 = Functional.fusesFeedForward(x, wu, wd)
        def viaBridge = Functional.geluFeedForward(x, wu, null, wd, null).toFloatArray()

        then:
        !fusedInFloat32 && exact == separate
        fusedInBfloat16 && relativeError(viaBridge, exact) <= BF16_TOLERANCE && relativeError(viaBridge, exact) > 1e-5

        cleanup:
        ComputePrecision.use(ComputePrecision.FLOAT32)
    }

    def "the bfloat16 keep-mask holds the boolean mask's draw: the same elements kept for the same seed, 1 or 0"() {
        given: 'a size that is no multiple of 8, so the per-element tail is drawn too'
        def shape = new Shape(3, 5, 7)

        when:
        DropoutMasks.seed(11)
        def bool = DropoutMasks.keep(m, shape, 0.3f).toType(DataType.FLOAT32, false).toFloatArray()
        DropoutMasks.seed(11)
        def bits = DropoutMasks.keepBfloat16Bits(m, shape, 0.3f)
        def asBf16
        try (def t = TorchBridge.view(bits); def b = t.view(ScalarType.BFloat16)) {
            asBf16 = TorchBridge.adopt(m, b.to(ScalarType.Float)).toFloatArray()
        }

        then:
        asBf16 == bool
        bool.any { it < 0.5f } && bool.any { it > 0.5f }
    }

    def "bfloat16 attention under a tape with every key of a row masked: finite and uniform, as in float32"() {
        given:
        def mask = m.zeros(new Shape(2, 1, 1, 16))
        mask.set(new ai.djl.ndarray.index.NDIndex('1, :, :, :'), -3.4028234663852886e38f)
        def inputs = [normal(2, 3, 16, 8), normal(2, 3, 16, 8), normal(2, 3, 16, 8)]

        when:
        def fp32 = valueAndGradients(inputs) { q, k, v -> engineAttention(q, k, v, mask) }
        def bf16 = valueAndGradients(inputs) { q, k, v ->
            BridgeKernels.attention(q, k, v, mask, 1 / Math.sqrt(8), 0f, ScalarType.BFloat16)
        }

        then:
        bf16.every { g -> g.every { Float.isFinite(it) } }
        (0..3).every { relativeError(bf16[it], fp32[it]) <= BF16_TOLERANCE }
    }

    def "bfloat16 attention, with and without dropout, stays within bfloat16's rounding of float32"() {
        given: 'the same keep-masks on both sides: Java-drawn, reseeded before each'
        def mask = m.zeros(new Shape(2, 1, 1, 64))
        mask.set(new ai.djl.ndarray.index.NDIndex('1, :, :, 50:'), -3.4028234663852886e38f)
        def inputs = [normal(2, 4, 64, 32), normal(2, 4, 64, 32), normal(2, 4, 64, 32)]
        def bridged = { q, k, v -> BridgeKernels.attention(q, k, v, mask, 1 / Math.sqrt(32), p, ScalarType.BFloat16) }
        System.setProperty('peft4j.dropout', 'java')

        when: 'under a tape'
        DropoutMasks.seed(3)
        def fp32 = valueAndGradients(inputs) { q, k, v -> engineAttention(q, k, v, mask, p) }
        DropoutMasks.seed(3)
        def bf16 = valueAndGradients(inputs, bridged)

        then: 'output, dq, dk, dv'
        (0..3).every { relativeError(bf16[it], fp32[it]) <= BF16_TOLERANCE }

        when: 'without a graph (the fused kernel where p is 0)'
        DropoutMasks.seed(3)
        def plain = bridged(*inputs).toFloatArray()

        then:
        relativeError(plain, fp32[0]) <= BF16_TOLERANCE

        cleanup:
        System.clearProperty('peft4j.dropout')

        where:
        p << [0f, 0.1f]
    }

    def "with bfloat16 selected, Functional sends big linears through the bridge and keeps LoRA-sized ones on the engine"() {
        given:
        def x = normal(2, 8, 256)
        def big = normal(256, 256)
        def small = normal(8, 256)

        when:
        def exact = Functional.linear(x, big, null).toFloatArray()
        def exactSmall = Functional.linear(x, small, null).toFloatArray()
        ComputePrecision.use(ComputePrecision.BFLOAT16)
        def viaBridge = Functional.linear(x, big, null).toFloatArray()
        def smallOnEngine = Functional.linear(x, small, null).toFloatArray()
        ComputePrecision.use(ComputePrecision.FLOAT32)

        then:
        relativeError(viaBridge, exact) > 1e-5
        relativeError(viaBridge, exact) <= BF16_TOLERANCE
        smallOnEngine == exactSmall
    }

    /** The engine's path of {@link Functional#scaledDotProductAttention}, with its dropout. */
    static NDArray engineAttention(NDArray q, NDArray k, NDArray v, NDArray mask, float p = 0f) {
        assert ComputePrecision.current() == ComputePrecision.FLOAT32 && !Functional.float32ThroughBridge
        Functional.scaledDotProductAttention(q, k, v, mask, 1 / Math.sqrt(q.shape.get(3)), p)
    }
}
