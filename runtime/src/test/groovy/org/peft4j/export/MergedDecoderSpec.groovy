package org.peft4j.export

import org.peft4j.peft.lora.AdapterFiles
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.peft.lora.LoraLinear
import org.peft4j.peft.files.PeftAdapters
import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import org.peft4j.config.ConfigException
import org.peft4j.generate.GenerationConfig
import org.peft4j.generate.Generator
import org.peft4j.io.SafeTensors
import org.peft4j.models.core.CausalLm
import org.peft4j.models.Registry
import org.peft4j.models.core.Task
import org.peft4j.models.gpt2.TinyGpt2
import org.peft4j.models.llama.TinyLlama
import org.peft4j.nn.Module
import org.peft4j.nn.Parameter
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.adalora.AdaLoraFiles
import org.peft4j.peft.adalora.AdaLoraInjector
import org.peft4j.peft.adalora.SvdLinear
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.CharTokenizer
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Merged decoders against the math: each written weight is the base tensor plus s·B·A (Llama,
 * [out, in]) or plus (s·B·A)ᵀ (GPT-2's Conv1D, [in, out]), computed here in double from the
 * adapter's saved factors; logits and greedy tokens of the reloaded directory equal base + adapter.
 */
class MergedDecoderSpec extends Specification {

    @TempDir
    Path tmp

    NDManager m = Backend.get().manager()

    static final long[] IDS = [3, 17, 0, 9, 22, 5, 11]

    def setup() {
        Backend.get().seed(17)
    }

    Path llamaDir(Map overrides = [:]) {
        Path dir = new TinyLlama(7, overrides).writeTo(tmp.resolve('llama'))
        CharTokenizer.write(dir)
        Files.writeString(dir.resolve('generation_config.json'), '{"do_sample": false}')
        dir
    }

    /** @param prefixed names under {@code transformer.}, as GPT2LMHeadModel's own state dict has them; the hub's gpt2 has none */
    Path gpt2Dir(boolean prefixed = false) {
        new TinyGpt2(41).writeTo(tmp.resolve('gpt2'), prefixed ? { 'transformer.' + it } : { it })
    }

    /** LoRA r = 2, α = 6 (s = 3) with B moved off zero, saved in PEFT's layout. */
    Path loraAdapter(Path modelDir, List<String> targets) {
        Module lm = (Module) Registry.load(modelDir, Task.CAUSAL_LM)
        def lora = LoraInjector.inject(lm, LoraConfig.builder().r(2).alpha(6).targets(targets).build(), m)
        lora.layers().values().each { set(it.loraB().weight(), 0.3f) }
        Path dir = tmp.resolve('adapter')
        AdapterFiles.save(lora, dir, 'CAUSAL_LM', modelDir.toString())
        dir
    }

    /** AdaLoRA init_r 3, α = 6 (s = 2) with P, Λ and Q all random, saved in PEFT's layout. */
    Path adaLoraAdapter(Path modelDir, List<String> targets) {
        Module lm = (Module) Registry.load(modelDir, Task.CAUSAL_LM)
        def ada = AdaLoraInjector.inject(lm, AdaLoraConfig.builder().initR(3).targetR(2).alpha(6).tinit(1).tfinal(1)
                .deltaT(1).totalSteps(10).targets(targets).build(), m)
        ada.layers().values().each { SvdLinear l -> [l.loraA(), l.loraB(), l.loraE()].each { set(it, 0.3f) } }
        Path dir = tmp.resolve('adapter')
        AdaLoraFiles.save(ada, dir, 'CAUSAL_LM', modelDir.toString())
        dir
    }

    void set(Parameter p, float std) {
        p.set(m.randomNormal(0f, std, p.value().shape, DataType.FLOAT32))
    }

    /** Base + adapter as loaded for generation without merging: the adapter branch runs beside each base layer. */
    CausalLm withAdapter(Path modelDir, Path adapter) {
        Module lm = (Module) Registry.load(modelDir, Task.CAUSAL_LM)
        PeftAdapters.load(adapter, lm, m)
        lm.train(false)
        (CausalLm) lm
    }

    float[] logits(CausalLm lm) {
        try (def s = new StepScope()) {
            return lm.forward(m.create([IDS] as long[][]), null, null, null).toFloatArray()
        }
    }

    /** Equal within 1e-5 of the largest logit's magnitude. */
    static boolean close(float[] a, float[] b) {
        double scale = Math.max(1d, b.collect { Math.abs(it) }.max() as double)
        a.length == b.length && (0..<a.length).every { Math.abs(a[it] - b[it]) <= 1e-5 * scale }
    }

    static double[] d(NDArray a) { a.toType(DataType.FLOAT32, false).toFloatArray().collect { it as double } as double[] }

    /**
     * W + s·Σk B[o][k] λk A[k][i] in the stored layout: [out, in], or [in, out] when {@code inOut}
     * (GPT-2's Conv1D stores Wᵀ, so it gains ΔWᵀ).
     */
    static double[] expectedWeight(double[] w, double[] a, double[] b, double[] lambda, int r, int inF, int outF,
                                   double s, boolean inOut) {
        double[] out = w.clone()
        for (int o = 0; o < outF; o++) {
            for (int i = 0; i < inF; i++) {
                double sum = 0
                for (int k = 0; k < r; k++) sum += b[o * r + k] * lambda[k] * a[k * inF + i]
                out[inOut ? i * outF + o : o * inF + i] += s * sum
            }
        }
        out
    }

    static double maxDiff(double[] a, double[] b) {
        assert a.length == b.length
        (0..<a.length).collect { Math.abs(a[it] - b[it]) }.max() as double
    }

    /** Checks every adapted weight of the merged file against the base file and the adapter file. */
    void checkWeights(Path base, Path adapter, Path merged, boolean adalora, double s, boolean gpt2) {
        Map<String, NDArray> baseT = SafeTensors.read(base.resolve('model.safetensors'), m)
        Map<String, NDArray> ad = SafeTensors.read(adapter.resolve(AdapterFiles.WEIGHTS), m)
        Map<String, NDArray> out = SafeTensors.read(merged.resolve('model.safetensors'), m)
        def aKeys = ad.keySet().findAll { it.endsWith(adalora ? '.lora_A' : '.lora_A.weight') }
        assert !aKeys.isEmpty()
        aKeys.each { String aKey ->
            String path = aKey.substring('base_model.model.'.length(), aKey.lastIndexOf('.lora_A'))
            String name = baseT.containsKey(path + '.weight') ? path + '.weight' : path.substring('transformer.'.length()) + '.weight'
            String bKey = aKey.replace('.lora_A', '.lora_B')
            long[] aShape = ad[aKey].shape.shape, bShape = ad[bKey].shape.shape
            int r = aShape[0], inF = aShape[1], outF = bShape[0]
            double[] lambda = adalora ? d(ad[aKey.replace('.lora_A', '.lora_E')]) : ([1d] * r) as double[]
            double[] want = expectedWeight(d(baseT[name]), d(ad[aKey]), d(ad[bKey]), lambda, r, inF, outF, s, gpt2)
            assert out[name].shape == baseT[name].shape
            assert maxDiff(d(out[name]), want) < 1e-5
            // the adapter really moved the weight, so the check above is not W = W
            assert maxDiff(d(baseT[name]), want) > 1e-2
        }
        (baseT.values() + ad.values() + out.values()).each { it.close() }
    }

    def "a LoRA-merged #kind directory has the base's tensor names, W + s·B·A in the base's layout, and base + adapter's logits"() {
        given:
        Path base = kind.startsWith('gpt2') ? gpt2Dir(kind == 'gpt2-prefixed') : llamaDir(overrides)
        Path adapter = loraAdapter(base, targets)
        float[] expected = logits(withAdapter(base, adapter))

        when:
        MergedDecoder.merge(base, adapter, tmp.resolve('merged'))
        Path merged = tmp.resolve('merged')

        then: 'exactly the base checkpoint names, none of an adapter, a tied head not added'
        SafeTensors.names(merged.resolve('model.safetensors')) == SafeTensors.names(base.resolve('model.safetensors'))
        SafeTensors.names(merged.resolve('model.safetensors')).every { !it.contains('lora_') && !it.contains('base_layer') }
        SafeTensors.header(merged.resolve('model.safetensors')).values().every { it.dtype() == 'F32' }

        and: 'config.json as it was, and the side files copied'
        Files.readString(merged.resolve('config.json')) == Files.readString(base.resolve('config.json'))
        sideFiles.every { Files.readString(merged.resolve(it)) == Files.readString(base.resolve(it)) }

        and:
        checkWeights(base, adapter, merged, false, 3d, kind.startsWith('gpt2'))

        and: 'the directory reloads as a plain model with the logits of base + adapter'
        close(logits(Registry.load(merged, Task.CAUSAL_LM)), expected)

        where:
        kind         | overrides                   | targets                                  | sideFiles
        'llama'      | [:]                         | ['q_proj', 'v_proj', 'down_proj']        | ['tokenizer.json', 'generation_config.json']
        'llama-tied' | [tie_word_embeddings: true] | ['q_proj', 'k_proj', 'o_proj', 'up_proj'] | ['tokenizer.json']
        'gpt2'       | [:]                         | ['c_attn', 'c_proj', 'c_fc']             | []
        'gpt2-prefixed' | [:]                      | ['c_attn', 'c_fc']                       | []
    }

    def "an AdaLoRA-merged #kind directory holds W + (α / init_r)·P Λ Q in the base's layout and gives base + adapter's logits"() {
        given:
        Path base = kind == 'gpt2' ? gpt2Dir() : llamaDir()
        Path adapter = adaLoraAdapter(base, targets)
        float[] expected = logits(withAdapter(base, adapter))

        when:
        MergedDecoder.merge(base, adapter, tmp.resolve('merged'))

        then:
        SafeTensors.names(tmp.resolve('merged/model.safetensors')) == SafeTensors.names(base.resolve('model.safetensors'))
        checkWeights(base, adapter, tmp.resolve('merged'), true, 2d, kind == 'gpt2')
        close(logits(Registry.load(tmp.resolve('merged'), Task.CAUSAL_LM)), expected)

        where:
        kind    | targets
        'llama' | ['q_proj', 'v_proj', 'gate_proj']
        'gpt2'  | ['c_attn', 'c_proj', 'c_fc']
    }

    def "greedy generation from the merged directory, and from a model merged in memory, equals generation with the adapter"() {
        given:
        Path base = kind == 'gpt2' ? gpt2Dir() : llamaDir()
        Path adapter = loraAdapter(base, targets)
        def config = GenerationConfig.greedy(12)
        int[] prompt = [3, 17, 0, 9]
        int[] withAdapterIds = new Generator(withAdapter(base, adapter), m).generate(prompt, config).ids()

        when:
        MergedDecoder.merge(base, adapter, tmp.resolve('merged'))
        CausalLm inMemory = MergedDecoder.load(base, adapter)

        then: 'the in-memory merge kept no adapter layer'
        !((Module) inMemory).namedModules().values().any { it instanceof LoraLinear || it instanceof SvdLinear }

        and:
        withAdapterIds.length == 12
        new Generator(Registry.load(tmp.resolve('merged'), Task.CAUSAL_LM), m).generate(prompt, config).ids() == withAdapterIds
        new Generator(inMemory, m).generate(prompt, config).ids() == withAdapterIds

        where:
        kind    | targets
        'llama' | ['q_proj', 'v_proj', 'down_proj']
        'gpt2'  | ['c_attn', 'c_proj', 'c_fc']
    }

    def "a sharded base is written as one model.safetensors with all its names, and a stored copy of a tied head is left out"() {
        given: 'a base in two shards, and a tied base whose file also holds lm_head.weight (as some exports do)'
        Path sharded = new TinyLlama(7).writeTo(tmp.resolve('sharded'), 2)
        Path tied = new TinyLlama(8, [tie_word_embeddings: true]).writeTo(tmp.resolve('tied'))
        Map<String, NDArray> t = SafeTensors.read(tied.resolve('model.safetensors'), m)
        t['lm_head.weight'] = t['model.embed_tokens.weight']
        SafeTensors.write(tied.resolve('model.safetensors'), t, [format: 'pt'])
        t.values().each { it.close() }
        float[] expectedTied = logits(withAdapter(tied, loraAdapterIn(tied, 'tied-adapter')))

        when:
        MergedDecoder.merge(sharded, loraAdapterIn(sharded, 'sharded-adapter'), tmp.resolve('out-sharded'))
        MergedDecoder.merge(tied, tmp.resolve('tied-adapter'), tmp.resolve('out-tied'))

        then:
        tmp.resolve('out-sharded').toFile().list().sort() == ['config.json', 'model.safetensors']
        SafeTensors.names(tmp.resolve('out-sharded/model.safetensors')).sort() ==
                (new TinyLlama(7).tensors.keySet() as List<String>).sort()
        SafeTensors.names(tmp.resolve('out-tied/model.safetensors')) == SafeTensors.names(tied.resolve('model.safetensors')) - 'lm_head.weight'
        close(logits(Registry.load(tmp.resolve('out-tied'), Task.CAUSAL_LM)), expectedTied)
    }

    Path loraAdapterIn(Path modelDir, String name) {
        Path dir = loraAdapter(modelDir, ['q_proj', 'up_proj'])
        Files.move(dir, tmp.resolve(name))
    }

    def "an adapter (#method) that does not fit the decoder is refused with the mismatch named, and nothing is written"() {
        given: 'a Llama adapter, and a GPT-2 model'
        Path adapter = method == 'LoRA' ? loraAdapter(llamaDir(), ['q_proj', 'v_proj']) : adaLoraAdapter(llamaDir(), ['q_proj', 'v_proj'])
        Path gpt2 = gpt2Dir()

        when:
        MergedDecoder.merge(gpt2, adapter, tmp.resolve('out'))

        then:
        def e = thrown(ConfigException)
        e.message.contains('[q_proj, v_proj] matches no linear module')
        !Files.exists(tmp.resolve('out'))
        tmp.toFile().list().every { !it.startsWith('.out') }

        where:
        method << ['LoRA', 'AdaLoRA']
    }

    def "an adapter of another rank than its tensors is refused before anything is written"() {
        given: 'r = 2 tensors under a config that says r = 4'
        Path base = llamaDir()
        Path adapter = loraAdapter(base, ['q_proj'])
        def cfg = adapter.resolve(AdapterFiles.CONFIG)
        Files.writeString(cfg, Files.readString(cfg).replaceFirst(/"r"\s*:\s*2/, '"r" : 4'))

        when:
        MergedDecoder.merge(base, adapter, tmp.resolve('out'))

        then:
        def e = thrown(ConfigException)
        e.message.contains("lora_A.weight' has shape (2, 16) but the model expects (4, 16)")
        !Files.exists(tmp.resolve('out'))
    }

    def "a peft_type peft4j cannot merge is named with the valid ones"() {
        given:
        Path base = llamaDir()
        Path adapter = Files.createDirectories(tmp.resolve('ia3'))
        Files.writeString(adapter.resolve(AdapterFiles.CONFIG), '{"peft_type": "IA3"}')

        when:
        MergedDecoder.merge(base, adapter, tmp.resolve('out'))

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains("peft_type = 'IA3' cannot be merged by peft4j; valid: LORA, ADALORA")
        !Files.exists(tmp.resolve('out'))
    }
}
