package org.peft4j.peft.lora

import ai.djl.ndarray.types.Shape
import org.peft4j.config.ConfigException
import org.peft4j.tensor.Backend
import org.peft4j.testing.TinyMlp
import spock.lang.Specification

class LoraOptionsSpec extends Specification {

    def manager = Backend.get().manager()

    def setup() {
        Backend.get().seed(5)
    }

    static LoraConfig cfg(Map o) {
        def b = LoraConfig.builder().r(o.r ?: 4).alpha(o.alpha ?: 8).targets('fc1', 'fc2')
        if (o.rsLora) b.rsLora(true)
        if (o.patterns) b.rankPattern([fc2: 2]).alphaPattern(['fc\\d': 5d])
        if (o.dora) b.useDora(true)
        if (o.init) b.init(o.init)
        b.build()
    }

    def "merged output equals unmerged and unmerge restores the base weights (rsLora=#rsLora patterns=#patterns dora=#dora init=#init)"() {
        given:
        def model = new TinyMlp(manager)
        def lora = LoraInjector.inject(model, cfg(rsLora: rsLora, patterns: patterns, dora: dora, init: init), manager)
        lora.layers().values().each {
            def b = it.loraB().weight()
            b.set(b.value().add(manager.randomNormal(0f, 0.2f, b.value().shape, b.value().dataType)))
            if (it.magnitude() != null) {
                it.magnitude().set(it.magnitude().value().mul(manager.randomUniform(0.5f, 1.5f, it.magnitude().value().shape)))
            }
        }
        def baseWeights = lora.layers().collectEntries { k, v -> [k, v.base().weight().value().toFloatArray()] }
        def x = manager.randomNormal(new Shape(5, 10))
        def unmerged = model.forward(x).toFloatArray()

        when:
        lora.merge()
        def merged = model.forward(x).toFloatArray()

        then:
        LoraLinearSpec.maxRelDiff(merged, unmerged) < 1e-5

        when:
        lora.unmerge()

        then:
        lora.layers().every { k, v -> LoraLinearSpec.maxAbsDiff(v.base().weight().value().toFloatArray(), baseWeights[k]) < 1e-5 }
        LoraLinearSpec.maxRelDiff(model.forward(x).toFloatArray(), unmerged) < 1e-5

        where:
        [rsLora, patterns, dora, init] << [[false, true], [false, true], [false, true],
                                           [LoraInit.KAIMING_UNIFORM, LoraInit.GAUSSIAN, LoraInit.PISSA]]
                .combinations().findAll { rs, p, d, i -> !(d && i == LoraInit.PISSA) }
    }

    def "a zero-initialised adapter is a no-op (dora=#dora init=#init rsLora=#rsLora)"() {
        given:
        def model = new TinyMlp(manager)
        def x = manager.randomNormal(new Shape(4, 10))
        def before = model.forward(x).toFloatArray()

        when:
        LoraInjector.inject(model, cfg(rsLora: rsLora, dora: dora, init: init), manager)

        then: 'B = 0 and m = ‖W‖ row-wise'
        LoraLinearSpec.maxRelDiff(model.forward(x).toFloatArray(), before) < 1e-6

        where:
        [dora, init, rsLora] << [[false, true], [LoraInit.KAIMING_UNIFORM, LoraInit.GAUSSIAN], [false, true]].combinations()
    }

    def "PiSSA leaves the outputs unchanged at step 0 and puts the top-r singular part of W into the adapter"() {
        given: 'fc1 has an exact rank-2 weight plus a small rank-8 remainder'
        def model = new TinyMlp(manager)
        def fc1 = model.linear('fc1')
        def u = manager.randomNormal(new Shape(20, 2))
        def v = manager.randomNormal(new Shape(2, 10))
        def small = manager.randomNormal(new Shape(20, 8)).matMul(manager.randomNormal(new Shape(8, 10))).mul(1e-3f)
        fc1.weight().set(u.matMul(v).add(small))
        def w = fc1.weight().value().toFloatArray()
        def x = manager.randomNormal(new Shape(6, 10))
        def before = model.forward(x).toFloatArray()

        when:
        def lora = LoraInjector.inject(model, LoraConfig.builder().r(2).alpha(4).targets('fc1', 'fc2').init(LoraInit.PISSA).build(), manager)
        def layer = lora.layers()['fc1']

        then: 'same outputs; s·B A carries W up to the small remainder; W − s·B A is what is left'
        LoraLinearSpec.maxRelDiff(model.forward(x).toFloatArray(), before) < 1e-5
        LoraLinearSpec.maxRelDiff(layer.delta().toFloatArray(), w) < 1e-2
        LoraLinearSpec.maxAbsDiff(layer.base().weight().value().add(layer.delta()).toFloatArray(), w) < 1e-5
        layer.base().weight().value().abs().max().getFloat() < 0.05f
    }

    def "PiSSA with a rank above a layer's smaller dimension is refused before any layer is touched"() {
        given:
        def model = new TinyMlp(manager)

        when:
        LoraInjector.inject(model, LoraConfig.builder().r(12).alpha(12).targets('fc1', 'fc2').init(LoraInit.PISSA).build(), manager)

        then:
        def e = thrown(ConfigException)
        e.message.contains('lora.r = 12 for fc1 exceeds min(in, out) = 10 of its 20×10 weight')
        !model.namedModules().values().any { it instanceof LoraLinear }
    }

    Tree tinyGpt() {
        new Tree().put('h.0.c_fc', new Conv1D(manager, 10, 20)).put('h.0.c_proj', new Conv1D(manager, 20, 20))
                .put('classifier', Tree.randomLinear(manager, 20, 2))
    }

    static final List<String> GPT_PATH = ['h.0.c_fc', 'h.0.c_proj', 'classifier']

    def "Conv1D weights stored [in, out] merge, unmerge and start as PEFT says with fanInFanOut (dora=#dora init=#init rsLora=#rsLora)"() {
        given:
        def model = tinyGpt()
        def x = manager.randomNormal(new Shape(5, 10))
        def before = model.chain(x, GPT_PATH).toFloatArray()
        def stored = ['h.0.c_fc', 'h.0.c_proj'].collectEntries { [it, model.module(it).parameters().weight.value().toFloatArray()] }

        when:
        def lora = LoraInjector.inject(model, LoraConfig.builder().r(4).alpha(8).targets('c_fc', 'c_proj').fanInFanOut(true)
                .useDora(dora).init(init).rsLora(rsLora).build(), manager)

        then: 'step 0 changes nothing (PiSSA included)'
        LoraLinearSpec.maxRelDiff(model.chain(x, GPT_PATH).toFloatArray(), before) < 1e-5

        when:
        lora.layers().values().each {
            def b = it.loraB().weight()
            b.set(b.value().add(manager.randomNormal(0f, 0.2f, b.value().shape, b.value().dataType)))
        }
        def unmerged = model.chain(x, GPT_PATH).toFloatArray()
        def weights = lora.layers().collectEntries { k, v -> [k, v.baseWeight().value().toFloatArray()] }
        lora.merge()
        def merged = model.chain(x, GPT_PATH).toFloatArray()
        lora.unmerge()

        then:
        LoraLinearSpec.maxRelDiff(merged, unmerged) < 1e-5
        lora.layers().every { k, v -> LoraLinearSpec.maxAbsDiff(v.baseWeight().value().toFloatArray(), weights[k]) < 1e-5 }
        lora.layers().every { k, v -> v.baseWeight().value().shape == new Shape(v.inFeatures(), v.outFeatures()) }
        init == LoraInit.PISSA || lora.layers().every { k, v -> LoraLinearSpec.maxAbsDiff(v.baseWeight().value().toFloatArray(), stored[k]) < 1e-5 }

        where:
        [dora, init, rsLora] << [[false, true], [LoraInit.KAIMING_UNIFORM, LoraInit.GAUSSIAN, LoraInit.PISSA], [false, true]]
                .combinations().findAll { d, i, rs -> !(d && i == LoraInit.PISSA) }
    }

    def "an adapted Conv1D gives the same outputs as the equivalent Linear with the same adapter (dora=#dora)"() {
        given: 'a Conv1D and a Linear holding the transposed weight'
        def conv = new Conv1D(manager, 6, 4)
        def lin = Tree.linear(manager, 6, 4, [[0] * 6] * 4 as float[][], [0] * 4 as float[])
        lin.weight().set(conv.parameters().weight.value().transpose().duplicate())
        lin.bias().set(conv.parameters().bias.value().duplicate())
        def convLora = LoraInjector.inject(new Tree().put('c', conv), LoraConfig.builder().r(2).alpha(3).targets('c').fanInFanOut(true).useDora(dora).build(), manager)
        def linLora = LoraInjector.inject(new Tree().put('c', lin), LoraConfig.builder().r(2).alpha(3).targets('c').useDora(dora).build(), manager)
        def c = convLora.layers()['c']
        def l = linLora.layers()['c']
        l.loraA().weight().set(c.loraA().weight().value().duplicate())
        [c, l].each { it.loraB().weight().set(manager.arange(8f).reshape(4, 2).div(10f)) }
        def x = manager.randomNormal(new Shape(3, 6))

        expect:
        LoraLinearSpec.maxRelDiff(c.forward(x).toFloatArray(), l.forward(x).toFloatArray()) < 1e-5

        where:
        dora << [false, true]
    }

    def "a square Conv1D takes its own [in, out] layout whatever lora.fanInFanOut = #fif says, and merges to W + s·(B A)ᵀ"() {
        given: 'a 6 → 6 Conv1D, whose shape alone cannot tell its layout'
        def model = new Tree().put('h.0.c_proj', new Conv1D(manager, 6, 6))
        double[] w = model.module('h.0.c_proj').parameters().weight.value().toFloatArray()
        def x = manager.randomNormal(new Shape(3, 6))

        when:
        def lora = LoraInjector.inject(model, LoraConfig.builder().r(2).alpha(4).targets('c_proj').fanInFanOut(fif).build(), manager)
        def layer = lora.layers()['h.0.c_proj']
        layer.loraB().weight().set(manager.randomNormal(0f, 0.5f, new Shape(6, 2), ai.djl.ndarray.types.DataType.FLOAT32))
        def unmerged = layer.forward(x).toFloatArray()
        double[] a = layer.loraA().weight().value().toFloatArray()   // [r, in]
        double[] b = layer.loraB().weight().value().toFloatArray()   // [out, r]
        lora.merge()

        then: 'stored [in, out]: W[i][o] + (α/r)·Σk B[o][k] A[k][i], by hand'
        layer.fanInFanOut()
        lora.config().fanInFanOut()
        double[] expected = (0..<36).collect { int n -> int i = n.intdiv(6), o = n % 6; w[n] + 2.0 * (0..<2).sum { k -> b[o * 2 + k] * a[k * 6 + i] } } as double[]
        LoraLinearSpec.maxAbsDiff(layer.baseWeight().value().toFloatArray(), expected as float[]) < 1e-5
        LoraLinearSpec.maxRelDiff(layer.forward(x).toFloatArray(), unmerged) < 1e-5

        where:
        fif << [false, true]
    }

    def "lora.fanInFanOut = true on a Linear is overruled by its [out, in] layout and recorded as false"() {
        when:
        def lora = LoraInjector.inject(new TinyMlp(manager), LoraConfig.builder().targets('fc1').fanInFanOut(true).build(), manager)

        then:
        !lora.layers()['fc1'].fanInFanOut()
        !lora.config().fanInFanOut()
    }

    def "a layer whose declared layout contradicts its weight's shape is refused, naming it"() {
        given: 'a 10 → 20 Conv1D-like layer that says [out, in] but stores [10, 20]'
        def liar = new Conv1D(manager, 10, 20) {
            @Override
            boolean fanInFanOut() { false }
        }

        when:
        LoraInjector.inject(new Tree().put('h.0.c_fc', liar), LoraConfig.builder().targets('c_fc').build(), manager)

        then:
        def e = thrown(ConfigException)
        e.message.contains('h.0.c_fc')
        e.message.contains('says its weight is stored [out, in] but it is [10, 20]')
    }

    def "the top-r SVD agrees with a product of known singular vectors"() {
        given: 'W = U diag(5, 3, 1) Vᵀ with orthonormal U, V'
        def q1 = orthonormal(7, 3)
        def q2 = orthonormal(4, 3)
        def w = q1.mul(manager.create([5f, 3f, 1f] as float[])).matMul(q2.transpose())

        when:
        def svd = TopSvd.of(w, 2)

        then:
        Math.abs(svd.singularValues()[0] - 5) < 1e-4 && Math.abs(svd.singularValues()[1] - 3) < 1e-4
        svd.u().mul(manager.create(svd.singularValues())).matMul(svd.v().transpose()).sub(
                q1.get(':, :2').mul(manager.create([5f, 3f] as float[])).matMul(q2.get(':, :2').transpose())).abs().max().getFloat() < 1e-4
    }

    def orthonormal(int n, int k) {
        def g = manager.randomNormal(new Shape(n, k)).toType(ai.djl.ndarray.types.DataType.FLOAT64, false)
        double[][] rows = (0..<n).collect { i -> g.get(i).toDoubleArray() } as double[][]
        TopSvd.orthonormalColumns(rows)
        manager.create(rows.flatten() as double[], new Shape(n, k)).toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
    }

    def "scalings follow their formulas: alpha / r, alpha / sqrt(r) with rsLoRA, and per-module patterns"() {
        given:
        def model = new TinyMlp(manager)
        def config = LoraConfig.builder().r(4).alpha(8).targets('fc1', 'fc2').rsLora(rsLora)
                .rankPattern(rankPattern).alphaPattern(alphaPattern).build()

        when:
        def lora = LoraInjector.inject(model, config, manager)

        then:
        lora.layers().collectEntries { k, v -> [k, [v.rank(), v.scaling()]] } == expected
        lora.layers()['fc1'].loraA().weight().value().shape == new Shape(expected.fc1[0], 10)
        lora.layers()['fc2'].loraB().weight().value().shape == new Shape(20, expected.fc2[0])

        where:
        rsLora | rankPattern | alphaPattern      || expected
        false  | [:]         | [:]               || [fc1: [4, 2.0], fc2: [4, 2.0]]
        true   | [:]         | [:]               || [fc1: [4, 4.0], fc2: [4, 4.0]]
        false  | [fc2: 16]   | [:]               || [fc1: [4, 2.0], fc2: [16, 0.5]]
        true   | [fc2: 16]   | [fc2: 12d]        || [fc1: [4, 4.0], fc2: [16, 3.0]]
        false  | ['fc\\d': 2] | ['fc1': 1d]      || [fc1: [2, 0.5], fc2: [2, 4.0]]
    }

    def "targets, allLinear, exclude and layersToTransform select modules as PEFT does"() {
        given:
        def model = new Tree()
        ['model.layers.0.attn.q_proj', 'model.layers.0.attn.v_proj', 'model.layers.1.attn.q_proj',
         'model.layers.1.attn.v_proj', 'model.layers.12.mlp.down', 'lm_head', 'score'].each { model.put(it, Tree.randomLinear(manager, 4, 4)) }

        expect:
        LoraInjector.matchTargets(model.namedModules(), config) == expected

        where:
        config                                                                                   || expected
        LoraConfig.builder().allLinear().build()                                                 || ['model.layers.0.attn.q_proj', 'model.layers.0.attn.v_proj', 'model.layers.1.attn.q_proj', 'model.layers.1.attn.v_proj', 'model.layers.12.mlp.down']
        LoraConfig.builder().allLinear().exclude('v_proj').build()                               || ['model.layers.0.attn.q_proj', 'model.layers.1.attn.q_proj', 'model.layers.12.mlp.down']
        LoraConfig.builder().allLinear().excludeRegex('.*layers\\.1\\..*').build()               || ['model.layers.0.attn.q_proj', 'model.layers.0.attn.v_proj', 'model.layers.12.mlp.down']
        LoraConfig.builder().targets('q_proj', 'down').layersToTransform([1, 12]).build()        || ['model.layers.1.attn.q_proj', 'model.layers.12.mlp.down']
        LoraConfig.builder().targets('q_proj').layersToTransform([0]).layersPattern(['layers']).build() || ['model.layers.0.attn.q_proj']
        LoraConfig.builder().targetRegex('.*attn\\.(q|v)_proj').layersToTransform([0]).build()  || ['model.layers.0.attn.q_proj', 'model.layers.0.attn.v_proj']
        LoraConfig.builder().allLinear().modulesToSave(['mlp']).build()                         || ['model.layers.0.attn.q_proj', 'model.layers.0.attn.v_proj', 'model.layers.1.attn.q_proj', 'model.layers.1.attn.v_proj']
        LoraConfig.builder().targets('q_proj', 'v_proj').modulesToSave(['layers.1.attn']).build() || ['model.layers.0.attn.q_proj', 'model.layers.0.attn.v_proj']
    }

    def "the layer index of #path is #index with layersPattern #patterns, by PEFT's regexes"() {
        expect:
        LoraInjector.layerIndex(path, patterns) == index

        where:
        path                                       | patterns    || index
        'model.layers.3.self_attn.q_proj'          | []          || 3
        'encoder.layer.11.attention.self.query'    | []          || 11
        'model.layers.1.mlp.experts.7.down_proj'   | []          || 7
        'model.layers.1.mlp.experts.7.down_proj'   | ['layers']  || 1
        'transformer.h.2.attn.c_attn'              | ['blocks']  || null
        'layers.0.fc'                              | []          || null
        'classifier'                               | []          || null
    }

    def "filters that leave nothing are refused, naming what they removed"() {
        given:
        def model = new TinyMlp(manager)

        when:
        LoraInjector.inject(model, LoraConfig.builder().targets('fc1').exclude('fc1').build(), manager)

        then:
        def e = thrown(ConfigException)
        e.message.contains('matches no linear module left after exclude / layersToTransform (they removed [fc1])')
    }

    def "bias=#bias trains #trained besides the adapter"() {
        given:
        def model = new TinyMlp(manager)

        when:
        LoraInjector.inject(model, LoraConfig.builder().r(2).alpha(2).targets('fc1').bias(bias).build(), manager)

        then:
        model.namedParameters().findAll { k, v -> v.trainable() }.keySet() == (['fc1.lora_A.weight', 'fc1.lora_B.weight'] + trained) as Set

        where:
        bias              || trained
        LoraBias.NONE     || []
        LoraBias.LORA_ONLY || ['fc1.base_layer.bias']
        LoraBias.ALL      || ['fc1.base_layer.bias', 'fc2.bias', 'classifier.bias']
    }

    def "configuration errors name the field, the value and the fix, all together"() {
        when:
        LoraConfig.builder().r(0).alpha(-1).dropout(1.5).targets('fc1').rankPattern([fc1: 0]).alphaPattern(['(': 2d])
                .layersPattern(['layers']).init(LoraInit.PISSA).useDora(true).build().with { ConfigException.throwIfAny(validate()) }

        then:
        def e = thrown(ConfigException)
        e.problems().size() == 7
        e.message.contains('lora.r = 0 must be >= 1')
        e.message.contains('lora.alpha = -1.0 must be > 0')
        e.message.contains('lora.dropout = 1.5 must be in [0, 1)')
        e.message.contains("lora.rankPattern['fc1'] = 0 must be >= 1")
        e.message.contains("lora.alphaPattern key regex '(' does not compile")
        e.message.contains('lora.layersPattern = [layers] has no effect without layersToTransform')
        e.message.contains('lora.init = PISSA with useDora = true')
    }

    def "the original six-argument constructor keeps every new option at its default"() {
        expect:
        new LoraConfig(4, 8, 0.1, ['q'], null, ['classifier']) == LoraConfig.builder().r(4).alpha(8).dropout(0.1)
                .targets('q').modulesToSave('classifier').build()
        LoraConfig.of(4, 8, 0.1, ['q'], []).toBuilder().build() == LoraConfig.of(4, 8, 0.1, ['q'], [])
    }
}
