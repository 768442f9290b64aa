package org.peft4j.peft

import ai.djl.engine.Engine
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.io.SafeTensors
import org.peft4j.models.CausalLmLoss
import org.peft4j.models.gpt2.GPT2LMHeadModel
import org.peft4j.models.gpt2.TinyGpt2
import org.peft4j.nn.Conv1D
import org.peft4j.nn.Parameter
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.adalora.AdaLoraFiles
import org.peft4j.peft.adalora.AdaLoraInjector
import org.peft4j.peft.adalora.AdaLoraModel
import org.peft4j.peft.adalora.SvdLinear
import org.peft4j.peft.lora.AdapterFiles
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.peft.lora.LoraLinear
import org.peft4j.peft.lora.LoraModel
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.train.AdamW
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * LoRA and AdaLoRA on GPT-2's Conv1D layers (weights stored [in, out]), checked against the tiny
 * GPT-2's forward pass by hand in double arithmetic with the weights W + ΔWᵀ that the adapter's
 * factors give, ΔW = s·B A (LoRA) or (α / init_r)·P (Λ ⊙ mask) Q (AdaLoRA), both [out, in].
 */
class Gpt2AdaptersSpec extends Specification {

    @TempDir
    @Shared
    Path tmp

    @Shared
    TinyGpt2 tiny = new TinyGpt2(41)

    @Shared
    Path modelDir

    NDManager m = Backend.get().manager()

    static final List<Integer> IDS = [3, 17, 0, 9, 22, 5]
    /** c_proj names both the square attention output (8 → 8) and the MLP's 32 → 8. */
    static final List<String> TARGETS = ['c_attn', 'c_proj', 'c_fc']
    static final List<String> PATHS = (0..<TinyGpt2.LAYERS).collectMany { l ->
        ["transformer.h.${l}.attn.c_attn", "transformer.h.${l}.attn.c_proj", "transformer.h.${l}.mlp.c_fc",
         "transformer.h.${l}.mlp.c_proj"]*.toString()
    }

    def setupSpec() {
        modelDir = tiny.writeTo(tmp.resolve('model'))
    }

    def setup() {
        Backend.get().seed(17)
    }

    GPT2LMHeadModel fresh() {
        def lm = GPT2LMHeadModel.fromPretrained(modelDir)
        lm.train(false)
        lm
    }

    /** The adapter of {@code method} on c_attn, c_proj and c_fc; LoRA's config leaves fanInFanOut at its default, false. */
    def inject(String method, GPT2LMHeadModel lm) {
        method == 'LoRA'
                ? LoraInjector.inject(lm, LoraConfig.builder().r(4).alpha(8).targets(*TARGETS).build(), m)
                : AdaLoraInjector.inject(lm, AdaLoraConfig.builder().initR(6).targetR(3).alpha(12).tinit(4).tfinal(4)
                .deltaT(2).totalSteps(40).targets(TARGETS).build(), m)
    }

    /** Moves the adapter away from its start so that ΔW is neither 0 nor negligible. */
    void perturb(adapter) {
        adapter.layers().values().each { layer ->
            if (layer instanceof LoraLinear) {
                set(layer.loraB().weight(), 0.3f)
            } else {
                [layer.loraA(), layer.loraB(), layer.loraE()].each { set(it, 0.3f) }
            }
        }
    }

    void set(Parameter p, float std) {
        p.set(m.randomNormal(0f, std, p.value().shape, DataType.FLOAT32))
    }

    float[] logits(GPT2LMHeadModel lm, List<Integer> ids = IDS) {
        try (def s = new StepScope()) {
            return lm.forward(m.create([ids as long[]] as long[][]), null).toFloatArray()
        }
    }

    static double[] d(float[] a) { a.collect { it as double } as double[] }

    /**
     * ΔWᵀ in the stored [in, out] layout, by hand: s·Σk B[o][k] λk A[k][i] with λ = 1 for LoRA and
     * λ = Λ ⊙ mask for AdaLoRA.
     */
    static double[] deltaInOut(layer) {
        double[] a, b, lambda
        int r
        if (layer instanceof LoraLinear) {
            a = d(layer.loraA().weight().value().toFloatArray())
            b = d(layer.loraB().weight().value().toFloatArray())
            r = layer.rank()
            lambda = [1d] * r as double[]
        } else {
            a = d(layer.loraA().value().toFloatArray())
            b = d(layer.loraB().value().toFloatArray())
            r = layer.rank()
            double[] e = d(layer.loraE().value().toFloatArray()), mask = d(layer.mask().toFloatArray())
            lambda = (0..<r).collect { e[it] * mask[it] } as double[]
        }
        deltaInOut(a, b, lambda, r, layer.inFeatures() as int, layer.outFeatures() as int, layer.scaling())
    }

    static double[] deltaInOut(double[] a, double[] b, double[] lambda, int r, int inF, int outF, double s) {
        double[] out = new double[inF * outF]
        for (int i = 0; i < inF; i++) {
            for (int o = 0; o < outF; o++) {
                double sum = 0
                for (int k = 0; k < r; k++) sum += b[o * r + k] * lambda[k] * a[k * inF + i]
                out[i * outF + o] = s * sum
            }
        }
        out
    }

    /** The tiny GPT-2 with each named weight (model path → [in, out] values) increased by the given ΔWᵀ. */
    TinyGpt2 byHandWith(Map<String, double[]> deltas) {
        def t = new TinyGpt2(41)
        deltas.each { path, delta ->
            String name = path.substring('transformer.'.length()) + '.weight'
            double[] w = t.t(name)
            t.tensors[name] = [t.tensors[name][0], (0..<w.length).collect { w[it] + delta[it] } as double[]]
        }
        t
    }

    static double maxDiff(float[] a, float[] b) {
        assert a.length == b.length
        double m = 0
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
        m
    }

    static float[] flat(double[][] x) { x.collectMany { it as List } as float[] }

    def "a fresh #method adapter on every Conv1D leaves GPT-2's logits unchanged"() {
        given:
        def lm = fresh()
        def before = logits(lm)

        when:
        def adapter = inject(method, lm)

        then:
        adapter.layers().keySet() == PATHS as Set
        adapter.layers().values().every { it.fanInFanOut() && it.baseLayer() instanceof Conv1D }
        maxDiff(logits(lm), before) == 0
        maxDiff(before, flat(tiny.logits(IDS))) < 1e-4

        where:
        method << ['LoRA', 'AdaLoRA']
    }

    def "#method on GPT-2 computes the hand forward with W + ΔWᵀ; merged weights are exactly that in [in, out] and give the unmerged logits"() {
        given:
        def lm = fresh()
        def adapter = inject(method, lm)
        perturb(adapter)
        if (method == 'AdaLoRA') {
            adapter.layers()['transformer.h.0.attn.c_attn'].setMask(m.create([1f, 0f, 1f, 1f, 0f, 1f] as float[]))
        }
        Map<String, double[]> deltas = adapter.layers().collectEntries { p, l -> [p, deltaInOut(l)] }
        Map<String, float[]> original = adapter.layers().collectEntries { p, l -> [p, l.baseWeight().value().toFloatArray()] }
        def hand = byHandWith(deltas)

        when:
        def unmerged = logits(lm)

        then: 'the adapter changes the logits, to what the hand forward with W + ΔWᵀ gives'
        maxDiff(unmerged, flat(tiny.logits(IDS))) > 0.1
        maxDiff(unmerged, flat(hand.logits(IDS))) < 1e-4

        when:
        adapter.merge()

        then: 'each merged weight is W + ΔWᵀ, still [in, out]'
        adapter.layers().every { p, l ->
            def w = l.baseWeight().value()
            float[] expected = (0..<original[p].length).collect { original[p][it] + deltas[p][it] } as float[]
            w.shape == new Shape(l.inFeatures(), l.outFeatures()) && maxDiff(w.toFloatArray(), expected) < 1e-5
        }
        maxDiff(logits(lm), unmerged) < 1e-5

        when:
        adapter.unmerge()

        then:
        adapter.layers().every { p, l -> maxDiff(l.baseWeight().value().toFloatArray(), original[p]) < 1e-5 }
        maxDiff(logits(lm), unmerged) < 1e-5

        when: 'merge and unload: plain Conv1D layers again'
        def plain = adapter.mergeAndUnload()

        then:
        PATHS.every { plain.module(it) instanceof Conv1D }
        !plain.namedModules().values().any { it instanceof LoraLinear || it instanceof SvdLinear }
        maxDiff(logits(lm), unmerged) < 1e-5

        where:
        method << ['LoRA', 'AdaLoRA']
    }

    def "GPT-2 with #method merged and unloaded saves as a plain checkpoint that loads with the adapter's logits"() {
        given:
        def lm = fresh()
        def adapter = inject(method, lm)
        perturb(adapter)
        def expected = logits(lm)
        def dir = tmp.resolve("merged-$method")
        Files.createDirectories(dir)

        when: 'the merged [in, out] weights written under their plain names, and read back by the GPT-2 loader'
        def plain = adapter.mergeAndUnload()
        SafeTensors.write(dir.resolve('model.safetensors'), plain.namedParameters().collectEntries { n, p -> [n, p.value()] }, [format: 'pt'])
        Files.copy(modelDir.resolve('config.json'), dir.resolve('config.json'))
        def reloaded = GPT2LMHeadModel.fromPretrained(dir)
        reloaded.train(false)

        then:
        !plain.namedParameters().keySet().any { it.contains('lora_') || it.contains('base_layer') }
        maxDiff(logits(reloaded), expected) < 1e-5

        where:
        method << ['LoRA', 'AdaLoRA']
    }

    def "only #method's adapter parameters get gradients from the causal-LM loss"() {
        given:
        def lm = fresh()
        def adapter = inject(method, lm)
        perturb(adapter)
        Collection<Parameter> own = adapter.adapterParameters().values()
        def ids = m.create([IDS as long[]] as long[][])

        when:
        try (def s = new StepScope(); def gc = Engine.instance.newGradientCollector()) {
            gc.backward(CausalLmLoss.loss(lm.forward(ids, null), ids))
        }

        then:
        own.size() == PATHS.size() * (method == 'LoRA' ? 2 : 3)
        own.every { it.trainable() && it.value().gradient.abs().sum().getFloat() > 0 }
        def frozen = lm.namedParameters().findAll { n, p -> !own.any { it.is(p) } }
        frozen.size() + own.size() == lm.namedParameters().size()
        frozen.keySet().containsAll(PATHS.collect { "${it}.base_layer.weight".toString() })
        frozen.every { n, p -> !p.trainable() && !p.value().hasGradient() }

        cleanup:
        own.each { it.zeroGrad() }

        where:
        method << ['LoRA', 'AdaLoRA']
    }

    def "a short #method run lowers the causal-LM loss on the response tokens of a tiny GPT-2"() {
        given: 'prompts of 5 random tokens, each answered by the same 5 tokens; only the answer is scored'
        def lm = fresh()
        def adapter = inject(method, lm)
        def random = new Random(3)
        List<Integer> answer = [4, 11, 19, 2, 7]
        long[][] ids = (0..<8).collect { ((0..<5).collect { random.nextInt(TinyGpt2.VOCAB) } + answer) as long[] } as long[][]
        long[][] labels = ids.collect { row -> (0..<row.length).collect { it < 5 ? CausalLmLoss.IGNORE : row[it] } as long[] } as long[][]
        def x = m.create(ids)
        def y = m.create(labels)
        def loss = {
            try (def s = new StepScope()) {
                return CausalLmLoss.loss(lm.forward(x, null), y).getFloat()
            }
        }
        def opt = new AdamW(adapter.adapterParameters().values() as List, 0.9, 0.999, 1e-8, 0)
        def hook = adapter instanceof AdaLoraModel ? adapter.hook(40) : null
        float before = loss()

        when:
        for (int step = 1; step <= 40; step++) {
            try (def s = new StepScope(); def gc = Engine.instance.newGradientCollector()) {
                def l = CausalLmLoss.loss(lm.forward(x, null), y)
                def extra = hook?.extraLoss()
                gc.backward(extra == null ? l : l.add(extra))
            }
            hook?.afterBackward(step)
            opt.step(2e-2)
            hook?.afterOptimizerStep(step)
            opt.zeroGrad()
        }
        float after = loss()

        then:
        after < 0.5 * before
        hook == null || adapter.ranks().values().sum() == 3 * PATHS.size()

        cleanup:
        opt?.close()

        where:
        method << ['LoRA', 'AdaLoRA']
    }

    def "LoRA adapters on GPT-2 are saved as PEFT writes them for Conv1D (fan_in_fan_out true, lora_A [r, in], lora_B [out, r]) and load to the same logits"() {
        given:
        def lm = fresh()
        def lora = (LoraModel) inject('LoRA', lm)
        perturb(lora)
        def expected = logits(lm)
        def dir = tmp.resolve('lora-adapter')

        when:
        AdapterFiles.save(lora, dir, 'CAUSAL_LM', 'tiny-gpt2')
        def json = new ObjectMapper().readTree(dir.resolve('adapter_config.json').toFile())
        def shapes = SafeTensors.header(dir.resolve('adapter_model.safetensors')).collectEntries { k, v -> [k, v.shape() as List] }
        def other = fresh()
        AdapterFiles.load(dir, other, m)

        then:
        json.get('fan_in_fan_out').asBoolean()
        shapes['base_model.model.transformer.h.0.attn.c_attn.lora_A.weight'] == [4, 8]
        shapes['base_model.model.transformer.h.0.attn.c_attn.lora_B.weight'] == [24, 4]
        shapes['base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight'] == [4, 32]
        shapes['base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight'] == [8, 4]
        maxDiff(logits(other), expected) < 1e-6
    }

    def "a PEFT LoRA file for GPT-2 (fan_in_fan_out #fif) gives the hand forward with W + (α/r)·(B A)ᵀ"() {
        given: 'what PEFT writes for target_modules ["c_attn"], r 2, lora_alpha 6; no transformer. prefix, as for the hub gpt2'
        def dir = tmp.resolve("peft-lora-$fif")
        Files.createDirectories(dir)
        Files.writeString(dir.resolve('adapter_config.json'), """{
          "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": "gpt2", "r": 2, "lora_alpha": 6,
          "lora_dropout": 0.05, "target_modules": ["c_attn"], "fan_in_fan_out": $fif, "bias": "none",
          "modules_to_save": null, "init_lora_weights": true, "inference_mode": true, "rank_pattern": {}, "alpha_pattern": {}
        }""")
        def random = new Random(5)
        Map<String, double[]> deltas = [:]
        Map tensors = [:]
        (0..<TinyGpt2.LAYERS).each { l ->
            double[] a = (0..<2 * 8).collect { random.nextGaussian() * 0.5 } as double[]       // [r, in] = [2, 8]
            double[] b = (0..<24 * 2).collect { random.nextGaussian() * 0.5 } as double[]      // [out, r] = [24, 2]
            String path = "transformer.h.${l}.attn.c_attn"
            tensors["base_model.model.${path}.lora_A.weight".toString()] = m.create(a as float[], new Shape(2, 8))
            tensors["base_model.model.${path}.lora_B.weight".toString()] = m.create(b as float[], new Shape(24, 2))
            deltas[path] = deltaInOut(d(a as float[]), d(b as float[]), [1d, 1d] as double[], 2, 8, 24, 6 / 2)
        }
        SafeTensors.write(dir.resolve('adapter_model.safetensors'), tensors, [format: 'pt'])
        def lm = fresh()

        when:
        def lora = AdapterFiles.load(dir, lm, m)

        then:
        lora.layers().keySet() == ['transformer.h.0.attn.c_attn', 'transformer.h.1.attn.c_attn'] as Set
        maxDiff(logits(lm), flat(byHandWith(deltas).logits(IDS))) < 1e-4

        when:
        lora.merge()

        then:
        maxDiff(logits(lm), flat(byHandWith(deltas).logits(IDS))) < 1e-4

        where:
        fif << [true, false]
    }

    def "an AdaLoRA adapter on GPT-2 with pruned triplets is saved sliced, as PEFT does, and loads to the hand forward"() {
        given:
        def lm = fresh()
        def ada = (AdaLoraModel) inject('AdaLoRA', lm)
        perturb(ada)
        ada.layers()['transformer.h.0.attn.c_attn'].setMask(m.create([1f, 0f, 1f, 1f, 0f, 1f] as float[]))
        ada.layers()['transformer.h.1.mlp.c_fc'].setMask(m.create([0f, 0f, 0f, 1f, 0f, 0f] as float[]))
        def expected = logits(lm)
        def dir = tmp.resolve('adalora-adapter')

        when:
        AdaLoraFiles.save(ada, dir, 'CAUSAL_LM', 'tiny-gpt2')
        def json = new ObjectMapper().readTree(dir.resolve('adapter_config.json').toFile())
        def saved = SafeTensors.read(dir.resolve('adapter_model.safetensors'), m)
        def other = fresh()
        def loaded = AdaLoraFiles.load(dir, other, m)

        then: 'k surviving triplets: lora_A [k, in], lora_E [k, 1], lora_B [out, k]'
        json.get('fan_in_fan_out').asBoolean()
        saved['base_model.model.transformer.h.0.attn.c_attn.lora_A'].shape == new Shape(4, 8)
        saved['base_model.model.transformer.h.0.attn.c_attn.lora_E'].shape == new Shape(4, 1)
        saved['base_model.model.transformer.h.0.attn.c_attn.lora_B'].shape == new Shape(24, 4)
        saved['base_model.model.transformer.h.1.mlp.c_fc.lora_B'].shape == new Shape(32, 1)
        loaded.layers()['transformer.h.0.attn.c_attn'].rank() == 4
        loaded.layers().values().every { it.fanInFanOut() }
        maxDiff(logits(other), expected) < 1e-5

        and: 'the saved factors, scaled by α / init_r = 12 / 6, give the hand forward'
        Map<String, double[]> deltas = PATHS.collectEntries { p ->
            def a = saved["base_model.model.${p}.lora_A".toString()]
            int k = a.shape.get(0)
            def l = other.module(p) as SvdLinear
            [p, deltaInOut(d(a.toFloatArray()), d(saved["base_model.model.${p}.lora_B".toString()].toFloatArray()),
                    d(saved["base_model.model.${p}.lora_E".toString()].toFloatArray()), k,
                    l.inFeatures() as int, l.outFeatures() as int, 12 / 6)]
        }
        maxDiff(logits(other), flat(byHandWith(deltas).logits(IDS))) < 1e-4

        cleanup:
        saved?.values()?.each { it.close() }
    }
}
