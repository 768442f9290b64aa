package org.peft4j.peft.lora

import ai.djl.engine.Engine
import ai.djl.ndarray.types.Shape
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.TinyMlp
import spock.lang.Specification

class DoraSpec extends Specification {

    def manager = Backend.get().manager()

    static final double[][] W = [[1, 2, 3], [4, 5, 6]]
    static final double[] BIAS = [0.5, -0.5]
    static final double[][] A = [[0.1, 0.2, 0.3], [-0.1, 0.0, 0.4]]
    static final double[][] B = [[1.0, 2.0], [0.5, -1.0]]
    static final double[] M = [2.0, 7.0]

    def "DoRA's output is m · (W + s·BA) / ‖W + s·BA‖ applied to x, plus the bias, computed here by hand"() {
        given: 'a 3→2 linear, rank 2, alpha 6 so s = 3'
        def base = Tree.linear(manager, 3, 2, AdapterFilesSpec.f(W), AdapterFilesSpec.f(BIAS))
        def layer = new LoraLinear(base, LoraAdapter.create('default', base, 2, 6, 3, 0, LoraInit.KAIMING_UNIFORM, true, manager))
        layer.loraA().weight().set(manager.create(AdapterFilesSpec.f(A)))
        layer.loraB().weight().set(manager.create(AdapterFilesSpec.f(B)))
        layer.magnitude().set(manager.create(AdapterFilesSpec.f(M)))
        double[] x = [1.0, -2.0, 0.5]

        when:
        def y = layer.forward(manager.create([AdapterFilesSpec.f(x)] as float[][])).toFloatArray()

        then:
        double[][] wd = (0..1).collect { o -> (0..2).collect { j -> W[o][j] + 3 * (0..1).sum { k -> B[o][k] * A[k][j] } } as double[] } as double[][]
        double[] norm = (0..1).collect { o -> Math.sqrt((0..2).sum { j -> wd[o][j] * wd[o][j] }) } as double[]
        double[] expected = (0..1).collect { o -> M[o] / norm[o] * (0..2).sum { j -> wd[o][j] * x[j] } + BIAS[o] } as double[]
        (0..1).every { Math.abs(y[it] - expected[it]) < 1e-4 }

        when: 'merged, the base weight itself is m · (W + s·BA) / ‖W + s·BA‖'
        layer.merge()

        then:
        def merged = layer.base().weight().value().toFloatArray()
        (0..1).every { o -> (0..2).every { j -> Math.abs(merged[o * 3 + j] - M[o] * wd[o][j] / norm[o]) < 1e-4 } }
        LoraLinearSpec.maxAbsDiff(layer.forward(manager.create([AdapterFilesSpec.f(x)] as float[][])).toFloatArray(), y) < 1e-4
    }

    def "the magnitude starts at the row-wise L2 norm of W, one value per output feature"() {
        given:
        def base = Tree.linear(manager, 3, 2, AdapterFilesSpec.f(W), null)

        when:
        def layer = new LoraLinear(base, LoraAdapter.create('default', base, 2, 2, 1, 0, LoraInit.GAUSSIAN, true, manager))

        then:
        def m = layer.magnitude().value().toFloatArray()
        Math.abs(m[0] - Math.sqrt(14)) < 1e-5 && Math.abs(m[1] - Math.sqrt(77)) < 1e-5
    }

    def "the magnitude, A and B all receive gradients and the base weight none"() {
        given:
        Backend.get().seed(9)
        def model = new TinyMlp(manager)
        def lora = LoraInjector.inject(model, LoraConfig.builder().r(2).alpha(4).targets('fc1').useDora(true).build(), manager)
        def layer = lora.layers()['fc1']
        layer.loraB().weight().set(manager.randomNormal(0f, 0.1f, new Shape(20, 2), layer.loraB().weight().value().dataType))

        when:
        try (def scope = new StepScope()) {
            def collector = Engine.instance.newGradientCollector()
            collector.backward(model.forward(manager.randomNormal(new Shape(4, 10))).square().mean())
            collector.close()
            [layer.magnitude(), layer.loraA().weight(), layer.loraB().weight()].each {
                assert it.value().gradient.abs().sum().getFloat() > 0
            }
        }

        then:
        !layer.base().weight().value().hasGradient()
        lora.adapterParameters().keySet() == ['fc1.lora_A.weight', 'fc1.lora_B.weight', 'fc1.lora_magnitude_vector'] as Set
    }
}
