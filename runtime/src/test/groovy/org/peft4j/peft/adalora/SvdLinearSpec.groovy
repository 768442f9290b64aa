package org.peft4j.peft.adalora

import ai.djl.engine.Engine
import ai.djl.ndarray.types.Shape
import org.peft4j.nn.Linear
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.TinyMlp
import spock.lang.Specification

class SvdLinearSpec extends Specification {

    def manager = Backend.get().manager()

    def setup() {
        Backend.get().seed(11)
    }

    static AdaLoraConfig config() {
        AdaLoraConfig.builder().initR(4).targetR(2).alpha(8).targets(['fc1', 'fc2']).modulesToSave(['classifier']).build()
    }

    def "a freshly injected adapter (Λ = 0) leaves the model's outputs unchanged"() {
        given:
        def model = new TinyMlp(manager)
        def x = manager.randomNormal(new Shape(4, 10))
        def before = model.forward(x).toFloatArray()

        when:
        def ada = AdaLoraInjector.inject(model, config(), manager)

        then:
        model.forward(x).toFloatArray() == before
        ada.layers().values().every { it.loraE().value().toFloatArray().every { it == 0f } }
        ada.layers().values().every { it.loraA().value().toFloatArray().any { it != 0f } }
    }

    def "the output is W x + b + P (Λ ⊙ Q x) · α / ranknum, computed here by hand, with a pruned λ set to zero"() {
        given: 'a 3→2 linear, rank 2, α = 6, the second triplet pruned'
        def base = new Linear(manager, 3, 2, true)
        base.weight().set(manager.create([[1f, 2f, 3f], [4f, 5f, 6f]] as float[][]))
        base.bias().set(manager.create([0.5f, -0.5f] as float[]))
        def layer = new SvdLinear(base, 2, 6.0, 0.0, manager)
        double[][] A = [[0.1, 0.2, 0.3], [-0.1, 0.0, 0.4]]
        double[] E = [2.0, 5.0]
        double[][] B = [[1.0, 2.0], [0.5, -1.0]]
        layer.loraA().set(manager.create(A.collect { it as float[] } as float[][]))
        layer.loraE().set(manager.create([[2f], [5f]] as float[][]))
        layer.loraB().set(manager.create(B.collect { it as float[] } as float[][]))
        layer.setMask(manager.create([1f, 0f] as float[]))
        double[] x = [1.0, -2.0, 0.5]

        when:
        def y = layer.forward(manager.create([x as float[]] as float[][])).toFloatArray()

        then: 'ranknum stays the initial rank 2 (as in PEFT), so the scale is 6 / 2 = 3; only triplet 0 counts'
        layer.scaling() == 3.0
        double ax0 = (0..2).sum { j -> A[0][j] * x[j] }
        double[] expected = (0..1).collect { o ->
            (0..2).sum { j -> [[1, 2, 3], [4, 5, 6]][o][j] * x[j] } + [0.5, -0.5][o] + 3.0 * B[o][0] * E[0] * ax0
        } as double[]
        (0..1).every { Math.abs(y[it] - expected[it]) < 1e-5 }
        layer.loraE().value().toFloatArray() as List == [2f, 0f]
    }

    def "a pruned λ still gets a gradient, and the output uses the value an optimizer gives it again"() {
        given: 'a rank-2 layer with its second triplet pruned'
        def layer = new SvdLinear(new Linear(manager, 3, 2, false), 2, 2.0, 0.0, manager)
        layer.loraA().set(manager.create([[0.1f, 0.2f, 0.3f], [-0.1f, 0f, 0.4f]] as float[][]))
        layer.loraE().set(manager.create([[2f], [5f]] as float[][]))
        layer.loraB().set(manager.create([[1f, 2f], [0.5f, -1f]] as float[][]))
        layer.adapterParameters().values().each { it.setTrainable(true) }
        layer.setMask(manager.create([1f, 0f] as float[]))
        def x = manager.create([[1f, -2f, 0.5f]] as float[][])
        def before = layer.forward(x).toFloatArray()

        when:
        float[] grad
        try (def scope = new StepScope(); def gc = Engine.instance.newGradientCollector()) {
            gc.backward(layer.forward(x).sum())
            grad = layer.loraE().value().getGradient().toFloatArray()
        }
        layer.loraE().value().set([2f, 1f] as float[])
        def after = layer.forward(x).toFloatArray()

        then: 'dL/dλ_1 = Σ_o P_o1 (Q_1 · x) · scale = (2 − 1) · 0.1 · 1 ≠ 0, and λ_1 = 1 adds its rank-1 term'
        Math.abs(grad[1] - 0.1f) < 1e-6
        (0..1).every { o -> Math.abs(after[o] - before[o] - [2f, -1f][o] * 0.1f) < 1e-6 }
        layer.survivors() as List == [true, false]
    }

    def "merging gives the unmerged outputs, and unmerging restores the base weights"() {
        given:
        def model = new TinyMlp(manager)
        def ada = AdaLoraInjector.inject(model, config(), manager)
        ada.layers().values().each { it.loraE().set(manager.randomNormal(0f, 1f, new Shape(4, 1), it.loraE().value().dataType)) }
        ada.layers()['fc1'].setMask(manager.create([1f, 0f, 1f, 0f] as float[]))
        def baseWeights = ada.layers().collectEntries { k, v -> [k, v.base().weight().value().toFloatArray()] }
        def x = manager.randomNormal(new Shape(5, 10))
        def unmerged = model.forward(x).toFloatArray()

        when:
        ada.merge()

        then:
        maxAbsDiff(model.forward(x).toFloatArray(), unmerged) < 1e-5

        when:
        ada.unmerge()

        then:
        ada.layers().every { k, v -> maxAbsDiff(v.base().weight().value().toFloatArray(), baseWeights[k]) < 1e-6 }
    }

    def "only P, Λ, Q of the adapted layers and the modules to save train"() {
        when:
        def model = new TinyMlp(manager)
        def ada = AdaLoraInjector.inject(model, config(), manager)

        then:
        model.namedParameters().findAll { k, v -> v.trainable() }.keySet() ==
                ['fc1.lora_A', 'fc1.lora_E', 'fc1.lora_B', 'fc2.lora_A', 'fc2.lora_E', 'fc2.lora_B',
                 'classifier.weight', 'classifier.bias'] as Set
        ada.adapterParameters().keySet() == model.namedParameters().findAll { k, v -> v.trainable() }.keySet()
    }

    static double maxAbsDiff(float[] a, float[] b) {
        (0..<a.length).collect { Math.abs(a[it] - b[it]) }.max()
    }
}
