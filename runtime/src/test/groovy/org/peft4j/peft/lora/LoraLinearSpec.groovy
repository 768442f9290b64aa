package org.peft4j.peft.lora

import ai.djl.engine.Engine
import ai.djl.ndarray.NDArray
import ai.djl.ndarray.types.Shape
import org.peft4j.config.ConfigException
import org.peft4j.nn.Linear
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.TinyMlp
import org.peft4j.train.AdamW
import spock.lang.Specification

class LoraLinearSpec extends Specification {

    def manager = Backend.get().manager()

    def setup() {
        Backend.get().seed(7)
    }

    def "a freshly injected adapter (B = 0) leaves the model's outputs unchanged"() {
        given:
        def model = new TinyMlp(manager)
        def x = manager.randomNormal(new Shape(4, 10))
        def before = model.forward(x).toFloatArray()

        when:
        LoraInjector.inject(model, LoraConfig.of(4, 8, 0.0, ['fc1', 'fc2'], []), manager)

        then:
        model.forward(x).toFloatArray() == before
    }

    def "the adapted output is W x + b + (alpha / r) B A x, computed here by hand"() {
        given: 'a 3→2 linear with known weights and an adapter of rank 2'
        def base = new Linear(manager, 3, 2, true)
        base.weight().set(manager.create([[1f, 2f, 3f], [4f, 5f, 6f]] as float[][]))
        base.bias().set(manager.create([0.5f, -0.5f] as float[]))
        def lora = new LoraLinear(base, 2, 6.0, 0.0, manager)
        double[][] A = [[0.1, 0.2, 0.3], [-0.1, 0.0, 0.4]]
        double[][] B = [[1.0, 2.0], [0.5, -1.0]]
        lora.loraA().weight().set(manager.create(A.collect { it as float[] } as float[][]))
        lora.loraB().weight().set(manager.create(B.collect { it as float[] } as float[][]))
        double[] x = [1.0, -2.0, 0.5]

        when:
        def y = lora.forward(manager.create([x as float[]] as float[][])).toFloatArray()

        then: 'the scaling is alpha / r = 3'
        double[] ax = (0..1).collect { i -> (0..2).sum { j -> A[i][j] * x[j] } } as double[]
        double[] expected = (0..1).collect { o ->
            double wx = (0..2).sum { j -> [[1, 2, 3], [4, 5, 6]][o][j] * x[j] } + [0.5, -0.5][o]
            wx + 3.0 * (0..1).sum { k -> B[o][k] * ax[k] }
        } as double[]
        (0..1).every { Math.abs(y[it] - expected[it]) < 1e-5 }
    }

    def "merging gives the same outputs as the unmerged adapter, and unmerging restores the base weights"() {
        given:
        def model = new TinyMlp(manager)
        def lora = LoraInjector.inject(model, LoraConfig.of(r, alpha, 0.0, ['fc1', 'fc2'], []), manager)
        lora.layers().values().each { it.loraB().weight().set(manager.randomNormal(0f, 0.2f, it.loraB().weight().value().shape, it.loraB().weight().value().dataType)) }
        def baseWeights = lora.layers().collectEntries { k, v -> [k, v.base().weight().value().toFloatArray()] }
        def x = manager.randomNormal(new Shape(5, 10))
        def unmerged = model.forward(x).toFloatArray()

        when:
        lora.merge()
        def merged = model.forward(x).toFloatArray()

        then:
        maxRelDiff(merged, unmerged) < 1e-5

        when:
        lora.unmerge()

        then:
        lora.layers().every { k, v -> maxAbsDiff(v.base().weight().value().toFloatArray(), baseWeights[k]) < 1e-6 }
        maxRelDiff(model.forward(x).toFloatArray(), unmerged) < 1e-5

        where:
        r | alpha
        1 | 1
        4 | 8
        8 | 32
    }

    def "after one optimizer step only the adapter and the modules to save have changed"() {
        given:
        def model = new TinyMlp(manager)
        def lora = LoraInjector.inject(model, LoraConfig.of(4, 8, 0.0, ['fc1', 'fc2'], ['classifier']), manager)
        def before = model.snapshot()
        def trainable = model.namedParameters().findAll { k, v -> v.trainable() }.keySet()
        def optimizer = new AdamW(model.namedParameters().values().findAll { it.trainable() }, 0.9, 0.999, 1e-8, 0.01)

        when:
        try (def scope = new StepScope()) {
            def x = manager.randomNormal(new Shape(8, 10))
            def collector = Engine.instance.newGradientCollector()
            def loss = model.forward(x).square().mean()
            collector.backward(loss)
            collector.close()
            optimizer.step(1e-2)
        }
        def after = model.snapshot()
        def changed = after.findAll { k, v -> v != before[k] }.keySet()

        then: 'B gets a gradient even at zero; the head trains fully; no frozen weight moves'
        trainable == ['fc1.lora_A.weight', 'fc1.lora_B.weight', 'fc2.lora_A.weight', 'fc2.lora_B.weight',
                      'classifier.weight', 'classifier.bias'] as Set
        changed.every { it in trainable }
        changed.containsAll(['fc1.lora_B.weight', 'fc2.lora_B.weight', 'classifier.weight', 'classifier.bias'])
        !changed.any { it.contains('base_layer') }
        lora.adapterParameters().keySet() == ['fc1.lora_A.weight', 'fc1.lora_B.weight', 'fc2.lora_A.weight',
                                              'fc2.lora_B.weight', 'classifier.weight', 'classifier.bias'] as Set
    }

    def "only adapter and modules-to-save parameters require gradients"() {
        given:
        def model = new TinyMlp(manager)

        when:
        LoraInjector.inject(model, LoraConfig.of(2, 4, 0.1, ['fc2'], ['classifier']), manager)

        then:
        model.namedParameters().findAll { k, v -> v.trainable() }.keySet() ==
                ['fc2.lora_A.weight', 'fc2.lora_B.weight', 'classifier.weight', 'classifier.bias'] as Set
        model.namedParameters().findAll { k, v -> v.value().hasGradient() }.keySet() ==
                model.namedParameters().findAll { k, v -> v.trainable() }.keySet()
    }

    def "targets match whole paths or dotted suffixes, or a regex over the whole path"() {
        given:
        def model = new TinyMlp(manager)

        expect:
        LoraInjector.matchTargets(model.namedModules(), new LoraConfig(2, 4, 0, names, regex, [])) == expected

        where:
        names            | regex         || expected
        ['fc1']          | null          || ['fc1']
        ['fc1', 'fc2']   | null          || ['fc1', 'fc2']
        []               | 'fc\\d'       || ['fc1', 'fc2']
        []               | '.*'          || ['fc1', 'fc2', 'classifier']
    }

    def "an unknown target module is refused with the list of the linear modules that exist"() {
        given:
        def model = new TinyMlp(manager)

        when:
        LoraInjector.inject(model, LoraConfig.of(2, 4, 0, ['query'], []), manager)

        then:
        def e = thrown(ConfigException)
        e.message.contains("lora.target [query] matches no linear module")
        e.message.contains('[classifier, fc1, fc2]')
    }

    static double maxAbsDiff(float[] a, float[] b) {
        (0..<a.length).collect { Math.abs(a[it] - b[it]) }.max()
    }

    static double maxRelDiff(float[] a, float[] b) {
        double scale = b.collect { Math.abs(it) }.max()
        maxAbsDiff(a, b) / Math.max(scale, 1e-12)
    }
}
