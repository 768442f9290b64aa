package org.peft4j.cli

import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import org.peft4j.io.SafeTensors
import org.peft4j.models.core.CausalLm
import org.peft4j.models.Registry
import org.peft4j.models.core.Task
import org.peft4j.nn.Module
import org.peft4j.nn.Parameter
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.adalora.AdaLoraFiles
import org.peft4j.peft.adalora.AdaLoraInjector
import org.peft4j.peft.lora.AdapterFiles
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** merge on a decoder directory and generate --merge, on a tiny random Llama with a random LoRA or AdaLoRA adapter. */
class DecoderMergeCliSpec extends Specification {

    @Shared @TempDir
    Path dir

    @Shared Path model
    @Shared Path lora
    @Shared Path adalora

    static final long[] IDS = [3, 9, 1, 14, 20, 7]

    static NDManager m() { Backend.get().manager() }

    def setupSpec() {
        Backend.get().seed(23)
        model = TinyCausalLmDir.write(dir.resolve('tiny'), 5)

        Module lm = (Module) Registry.load(model, Task.CAUSAL_LM)
        def l = LoraInjector.inject(lm, LoraConfig.builder().r(2).alpha(4).targets('q_proj', 'v_proj', 'down_proj').build(), m())
        l.layers().values().each { randomize(it.loraB().weight()) }
        lora = dir.resolve('lora')
        AdapterFiles.save(l, lora, 'CAUSAL_LM', model.toString())

        Module lm2 = (Module) Registry.load(model, Task.CAUSAL_LM)
        def a = AdaLoraInjector.inject(lm2, AdaLoraConfig.builder().initR(3).targetR(2).alpha(6).tinit(1).tfinal(1)
                .deltaT(1).totalSteps(10).targets(['q_proj', 'o_proj', 'up_proj']).build(), m())
        a.layers().values().each { layer -> [layer.loraA(), layer.loraB(), layer.loraE()].each { randomize(it) } }
        adalora = dir.resolve('adalora')
        AdaLoraFiles.save(a, adalora, 'CAUSAL_LM', model.toString())
    }

    static void randomize(Parameter p) {
        p.set(m().randomNormal(0f, 0.5f, p.value().shape, DataType.FLOAT32))
    }

    /** Base + adapter with the adapter branch beside each layer, the reference a merge must reproduce. */
    float[] adapterLogits(Path adapter) {
        Module lm = (Module) Registry.load(model, Task.CAUSAL_LM)
        adapter.fileName.toString() == 'adalora' ? AdaLoraFiles.load(adapter, lm, m()) : AdapterFiles.load(adapter, lm)
        lm.train(false)
        logits((CausalLm) lm)
    }

    static float[] logits(CausalLm lm) {
        try (StepScope s = new StepScope()) {
            return lm.forward(m().create([IDS] as long[][]), null, null, null).toFloatArray()
        }
    }

    static boolean close(float[] a, float[] b) {
        double scale = Math.max(1d, b.collect { Math.abs(it) }.max() as double)
        a.length == b.length && (0..<a.length).every { Math.abs(a[it] - b[it]) <= 1e-5 * scale }
    }

    def "merge on a #method decoder writes the base's tensor names and reloads with base + adapter's logits"() {
        given:
        Path adapter = method == 'LoRA' ? lora : adalora
        Path out = dir.resolve("merged-${method}")

        when:
        Cli c = Cli.run('merge', '--model', model.toString(), '--adapter', adapter.toString(), '--out', out.toString())

        then:
        c.code == 0
        c.out.toString().contains("merged ${adapter} into ${model}: ${out}")
        SafeTensors.names(out.resolve('model.safetensors')) == SafeTensors.names(model.resolve('model.safetensors'))
        Files.readString(out.resolve('tokenizer.json')) == Files.readString(model.resolve('tokenizer.json'))

        and: 'the adapter matters, and the merged directory gives what base + adapter gives'
        float[] merged = logits(Registry.load(out, Task.CAUSAL_LM))
        !close(logits(Registry.load(model, Task.CAUSAL_LM)), merged)
        close(merged, adapterLogits(adapter))

        where:
        method << ['LoRA', 'AdaLoRA']
    }

    def "generate --merge prints what generate with the adapter prints, and what the merged directory generates"() {
        given:
        List<String> common = ['--prompt', 'hello world', '--max-new-tokens', '10']
        Path out = dir.resolve('merged-for-generate')
        Cli.run('merge', '--model', model.toString(), '--adapter', lora.toString(), '--out', out.toString())

        when:
        Cli withAdapter = Cli.run((['generate', '--model', model.toString(), '--adapter', lora.toString()] + common) as String[])
        Cli merged = Cli.run((['generate', '--model', model.toString(), '--adapter', lora.toString(), '--merge'] + common) as String[])
        Cli fromDir = Cli.run((['generate', '--model', out.toString()] + common) as String[])

        then:
        [withAdapter, merged, fromDir].every { it.code == 0 }
        withAdapter.out.toString().length() > 1
        merged.out.toString() == withAdapter.out.toString()
        fromDir.out.toString() == withAdapter.out.toString()
    }

    def "generate --help documents --merge"() {
        expect:
        Cli.run('generate', '--help').out.toString().contains('--merge')
        Cli.run('merge', '--help').out.toString().contains('a decoder (llama, mistral, qwen2,')
    }

    def "#what exits 2 with a clear message, and merge writes nothing"() {
        given:
        Path other = dir.resolve('other-adapter')
        Files.createDirectories(other)
        Files.writeString(other.resolve('adapter_config.json'),
                '{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["c_attn"]}')
        SafeTensors.write(other.resolve('adapter_model.safetensors'),
                ['base_model.model.transformer.h.0.attn.c_attn.lora_A.weight': m().zeros(new ai.djl.ndarray.types.Shape(2, 16))],
                [format: 'pt'])
        Path out = dir.resolve("refused-${what.hashCode()}")

        when:
        Cli c = Cli.run(args.collect {
            it.replace('TINY', model.toString()).replace('LORA', lora.toString()).replace('OTHER', other.toString())
                    .replace('OUT', out.toString())
        } as String[])

        then:
        c.code == 2
        c.err.toString().contains(text)
        !c.err.toString().contains('\tat ')
        !Files.exists(out)

        where:
        what                               | args                                                                              | text
        'an adapter for other modules'     | ['merge', '--model', 'TINY', '--adapter', 'OTHER', '--out', 'OUT']                | '[c_attn] matches no linear module'
        'labels, no trained score head'    | ['merge', '--model', 'TINY', '--adapter', 'LORA', '--out', 'OUT', '--labels', 'a,b'] | "head's [score.weight] are in neither"
        'generate --merge without adapter' | ['generate', '--model', 'TINY', '--merge', '--prompt', 'hi']                      | '--merge folds an adapter into the model; give --adapter DIR too'
        'generate --merge, a misfit'       | ['generate', '--model', 'TINY', '--adapter', 'OTHER', '--merge', '--prompt', 'hi'] | '[c_attn] matches no linear module'
    }
}
