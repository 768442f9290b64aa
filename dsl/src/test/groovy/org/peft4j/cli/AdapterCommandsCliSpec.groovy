package org.peft4j.cli

import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.models.Registry
import org.peft4j.models.core.Task
import org.peft4j.nn.Module
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.adalora.AdaLoraInjector
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.tensor.Backend
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * An AdaLoRA adapter with a module pruned to rank 0 in every command that takes an adapter, and
 * {@code export --to lora}, on a tiny random Llama.
 */
class AdapterCommandsCliSpec extends Specification {

    @Shared @TempDir
    Path dir

    @Shared Path model
    @Shared Path adalora
    @Shared Path lora

    static NDManager m() { Backend.get().manager() }

    def setupSpec() {
        Backend.get().seed(29)
        model = TinyCausalLmDir.write(dir.resolve('tiny'), 5)
        Module lm = (Module) Registry.load(model, Task.CAUSAL_LM)
        def a = AdaLoraInjector.inject(lm, AdaLoraConfig.builder().initR(3).targetR(2).alpha(6).tinit(1).tfinal(1)
                .deltaT(1).totalSteps(10).targets(['q_proj', 'v_proj']).build(), m())
        a.layers().values().each { layer ->
            [layer.loraA(), layer.loraB(), layer.loraE()].each { it.set(m().randomNormal(0f, 0.5f, it.value().shape, DataType.FLOAT32)) }
        }
        // every triplet of the first v_proj pruned: a zero-size layer in the files
        def first = a.layers().find { k, v -> k.endsWith('v_proj') }.value
        first.setMask(m().zeros(new Shape(3, 1)))
        adalora = dir.resolve('adalora')
        a.save(adalora, 'CAUSAL_LM', model.toString())
        Module lm2 = (Module) Registry.load(model, Task.CAUSAL_LM)
        lora = dir.resolve('lora')
        LoraInjector.inject(lm2, LoraConfig.of(2, 4, 0, ['q_proj'], []), m()).save(lora, 'CAUSAL_LM', model.toString())
    }

    def "the AdaLoRA adapter holds a rank-0 module"() {
        expect:
        new ObjectMapper().readTree(adalora.resolve('adapter_config.json').toFile()).get('rank_pattern').fields()
                .any { e -> e.value.every { !it.asBoolean() } }
    }

    def "generate and perplexity take the AdaLoRA adapter, and --merge gives what the adapter branch gives"() {
        given:
        Path text = dir.resolve('text.txt')
        Files.writeString(text, 'hello world\nanother line here\n')
        List<String> prompt = ['--prompt', 'hello world', '--max-new-tokens', '8']

        when:
        Cli branch = Cli.run((['generate', '--model', model.toString(), '--adapter', adalora.toString()] + prompt) as String[])
        Cli merged = Cli.run((['generate', '--model', model.toString(), '--adapter', adalora.toString(), '--merge'] + prompt) as String[])
        Cli ppl = Cli.run('perplexity', '--model', model.toString(), '--adapter', adalora.toString(), '--input', text.toString())

        then:
        [branch, merged, ppl].every { it.code == 0 }
        merged.out.toString() == branch.out.toString()
        ppl.out.toString().contains('perplexity')
    }

    def "export --to lora writes a LoRA adapter without the rank-0 module that generates what the AdaLoRA adapter generates"() {
        given:
        Path out = dir.resolve('as-lora')
        List<String> prompt = ['--prompt', 'hello world', '--max-new-tokens', '8']

        when:
        Cli export = Cli.run('export', '--adapter', adalora.toString(), '--to', 'lora', '--out', out.toString())
        def config = new ObjectMapper().readTree(out.resolve('adapter_config.json').toFile())
        Cli withLora = Cli.run((['generate', '--model', model.toString(), '--adapter', out.toString()] + prompt) as String[])
        Cli withAdaLora = Cli.run((['generate', '--model', model.toString(), '--adapter', adalora.toString()] + prompt) as String[])

        then:
        export.code == 0
        export.out.toString().contains('3 of 4 modules kept')
        config.get('peft_type').asText() == 'LORA'
        config.get('target_modules').size() == 3
        withLora.code == 0
        withLora.out.toString() == withAdaLora.out.toString()
    }

    def "export #what exits 2 with a clear message"() {
        when:
        Cli c = Cli.run(args.collect { it.replace('LORA', lora.toString()).replace('OUT', dir.resolve('x-' + what.hashCode()).toString()) } as String[])

        then:
        c.code == 2
        c.err.toString().contains(text)
        !c.err.toString().contains('\tat ')

        where:
        what                 | args                                                         | text
        'of a LoRA adapter'  | ['export', '--adapter', 'LORA', '--to', 'lora', '--out', 'OUT'] | "only an AdaLoRA adapter is exported to LoRA"
        'to an unknown format' | ['export', '--adapter', 'LORA', '--to', 'gguf', '--out', 'OUT'] | "--to 'gguf' is not a format peft4j exports to; valid: lora"
    }

    def "export --help shows an example"() {
        expect:
        Cli.run('export', '--help').out.toString().contains('peft4j export --adapter runs/spam-adalora/adapter --to lora')
    }
}
