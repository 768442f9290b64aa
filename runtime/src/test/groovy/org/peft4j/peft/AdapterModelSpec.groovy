package org.peft4j.peft

import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import org.peft4j.nn.Module
import org.peft4j.nn.Parameter
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.adalora.AdaLoraInjector
import org.peft4j.peft.files.PeftAdapters
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.tensor.Backend
import org.peft4j.testing.TinyMlp
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * The adapter contract, the same for every method: each row of a table is one method, and every
 * feature is checked against the math (W x + ΔW x), not against the method's own output.
 */
class AdapterModelSpec extends Specification {

    NDManager m = Backend.get().manager()

    @TempDir
    Path dir

    static AdapterModel lora(Module model, NDManager m) {
        LoraInjector.inject(model, LoraConfig.of(3, 6, 0, ['fc1', 'fc2'], ['classifier']), m)
    }

    static AdapterModel adalora(Module model, NDManager m) {
        AdaLoraInjector.inject(model, AdaLoraConfig.builder().initR(3).targetR(2).tinit(1).tfinal(1).deltaT(1)
                .totalSteps(10).alpha(6).orthReg(0.1).targets(['fc1', 'fc2']).modulesToSave(['classifier']).build(), m)
    }

    TinyMlp freshModel() {
        Backend.get().seed(31)
        new TinyMlp(m)
    }

    /** Every adapter parameter moved off its start, so that ΔW ≠ 0 and the checks below can fail. */
    void perturb(AdapterModel adapter) {
        Backend.get().seed(5)
        adapter.adapterParameters().values().each { Parameter p ->
            p.set(m.randomNormal(0f, 0.4f, p.value().shape, DataType.FLOAT32))
        }
    }

    float[] out(Module model, ai.djl.ndarray.NDArray x) {
        ((TinyMlp) model).forward(x).toFloatArray()
    }

    static double maxDiff(float[] a, float[] b) {
        (0..<a.length).collect { Math.abs(a[it] - b[it]) }.max() as double
    }

    def "#method: the layers, the modules to save and the adapter's own parameters are declared, and exactly those train"() {
        given:
        def model = freshModel()
        AdapterModel adapter = inject(model, m)

        expect:
        adapter.peftType() == type
        adapter.config().peftType() == type
        adapter.config().targeting().names() == ['fc1', 'fc2']
        adapter.adaptedPaths() == ['fc1', 'fc2']
        adapter.layers().values().every { it instanceof AdapterLayer && it.rank() == 3 }
        adapter.modulesToSave().keySet() == ['classifier'] as Set
        adapter.adapterParameters().keySet() == (layerParams + ['classifier.weight', 'classifier.bias']) as Set
        model.namedParameters().findAll { k, p -> p.trainable() }.keySet() == adapter.adapterParameters().keySet()

        where:
        method    | inject                | type             | layerParams
        'LoRA'    | AdapterModelSpec.&lora    | PeftType.LORA    | ['fc1.lora_A.weight', 'fc1.lora_B.weight', 'fc2.lora_A.weight', 'fc2.lora_B.weight']
        'AdaLoRA' | AdapterModelSpec.&adalora | PeftType.ADALORA | ['fc1.lora_A', 'fc1.lora_E', 'fc1.lora_B', 'fc2.lora_A', 'fc2.lora_E', 'fc2.lora_B']
    }

    def "#method: each layer adds ΔW x to its base, merge folds ΔW into W and unmerge takes it out again"() {
        given:
        def model = freshModel()
        def before = model.snapshot()
        AdapterModel adapter = inject(model, m)
        perturb(adapter)
        def x = m.randomNormal(0f, 1f, new Shape(4, 10), DataType.FLOAT32)
        def h = m.randomNormal(0f, 1f, new Shape(4, 10), DataType.FLOAT32)

        when: 'the first layer on its own, against W x + b + ΔW x'
        AdapterLayer fc1 = adapter.layers()['fc1']
        def w = m.create(before['fc1.weight'], new Shape(20, 10))
        def b = m.create(before['fc1.bias'])
        def expected = h.matMul(w.transpose()).add(b).add(h.matMul(fc1.delta().transpose())).toFloatArray()

        then:
        maxDiff(fc1.forward(h).toFloatArray(), expected) < 1e-5

        when:
        def unmerged = out(model, x)
        adapter.merge()

        then: 'the same outputs from the merged weights, W + ΔW'
        adapter.layers().values().every { it.isMerged() }
        maxDiff(out(model, x), unmerged) < 1e-5
        maxDiff(model.namedParameters()['fc1.base_layer.weight'].value().toFloatArray(),
                w.add(fc1.delta()).toFloatArray()) < 1e-6

        when:
        adapter.unmerge()

        then: 'W again, up to rounding'
        maxDiff(model.namedParameters()['fc1.base_layer.weight'].value().toFloatArray(), before['fc1.weight']) < 1e-6
        maxDiff(out(model, x), unmerged) < 1e-5

        where:
        method    | inject
        'LoRA'    | AdapterModelSpec.&lora
        'AdaLoRA' | AdapterModelSpec.&adalora
    }

    def "#method: a merge that would give non-finite weights is refused and the weights stay as they were"() {
        given:
        def model = freshModel()
        AdapterModel adapter = inject(model, m)
        perturb(adapter)
        Parameter a = adapter.layers()['fc2'].adapterParameters().values().first()
        a.set(m.full(a.value().shape, Float.NaN))
        def w = model.namedParameters()['fc2.base_layer.weight'].value().toFloatArray()

        when:
        adapter.layers()['fc2'].merge()

        then:
        thrown(IllegalStateException)
        !adapter.layers()['fc2'].isMerged()
        model.namedParameters()['fc2.base_layer.weight'].value().toFloatArray() == w

        where:
        method    | inject
        'LoRA'    | AdapterModelSpec.&lora
        'AdaLoRA' | AdapterModelSpec.&adalora
    }

    def "#method: mergeAndUnload gives back the plain model with the adapter folded in, and the adapter model is done"() {
        given:
        def model = freshModel()
        AdapterModel adapter = inject(model, m)
        perturb(adapter)
        def x = m.randomNormal(0f, 1f, new Shape(4, 10), DataType.FLOAT32)
        def expected = out(model, x)

        when:
        Module plain = adapter.mergeAndUnload()

        then:
        plain.is(model)
        !plain.namedModules().values().any { it instanceof AdapterLayer }
        plain.namedParameters().keySet() == ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'classifier.weight',
                                             'classifier.bias'] as Set
        maxDiff(out(plain, x), expected) < 1e-5

        when:
        adapter.adapterParameters()

        then:
        def e = thrown(IllegalStateException)
        e.message.contains('merged and unloaded')

        where:
        method    | inject
        'LoRA'    | AdapterModelSpec.&lora
        'AdaLoRA' | AdapterModelSpec.&adalora
    }

    def "#method: the per-step hook is #hook"() {
        given:
        AdapterModel adapter = inject(freshModel(), m)

        expect:
        (adapter.stepHook(10) != null) == present
        !present || adapter.stepHook(10).extraLoss() != null

        where:
        method    | inject                    | present | hook
        'LoRA'    | AdapterModelSpec.&lora    | false   | 'none'
        'AdaLoRA' | AdapterModelSpec.&adalora | true    | "AdaLoRA's: the orthogonal regularizer, importance and pruning"
    }

    def "#method: save writes PEFT's layout and PeftAdapters loads it back by peft_type, with the same outputs"() {
        given:
        def model = freshModel()
        AdapterModel adapter = inject(model, m)
        perturb(adapter)
        def x = m.randomNormal(0f, 1f, new Shape(4, 10), DataType.FLOAT32)
        def expected = out(model, x)

        when:
        adapter.save(dir, 'SEQ_CLS', 'tiny-mlp')
        def fresh = freshModel()
        AdapterModel loaded = PeftAdapters.load(dir, fresh)

        then:
        PeftAdapters.peftType(dir) == type
        loaded.peftType() == type
        loaded.getClass() == adapter.getClass()
        maxDiff(out(fresh, x), expected) < 1e-6

        where:
        method    | inject                    | type
        'LoRA'    | AdapterModelSpec.&lora    | PeftType.LORA
        'AdaLoRA' | AdapterModelSpec.&adalora | PeftType.ADALORA
    }
}
