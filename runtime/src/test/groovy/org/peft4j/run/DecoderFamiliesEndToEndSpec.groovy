package org.peft4j.run

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.data.ChatTemplate
import org.peft4j.data.DataConfig
import org.peft4j.data.TextFormat
import org.peft4j.generate.GenerationConfig
import org.peft4j.generate.Generator
import org.peft4j.io.SafeTensors
import org.peft4j.models.ModelInit
import org.peft4j.models.ModelSpec
import org.peft4j.models.Registry
import org.peft4j.models.TaskType
import org.peft4j.models.core.CausalLm
import org.peft4j.models.core.Task
import org.peft4j.nn.Module
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.lora.AdapterFiles
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.export.MergedDecoder
import org.peft4j.tensor.Backend
import org.peft4j.tensor.BackendConfig
import org.peft4j.tensor.StepScope
import org.peft4j.testing.CharTokenizer
import org.peft4j.testing.FixtureModels
import org.peft4j.testing.HfFixture
import org.peft4j.train.OptimizerConfig
import org.peft4j.train.ScheduleConfig
import org.peft4j.train.TrainConfig
import org.peft4j.train.TrainingListener
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

import static org.peft4j.run.ModelInspector.Role.TARGET

/**
 * Qwen3, Gemma 3 and SmolLM3 through what a user runs: generation with the KV cache past a sliding
 * window, inspect's targets against the modules PEFT adapted, and LoRA and AdaLoRA runs whose
 * adapters load back and merge. The models are the Transformers fixtures (hf/CASES.md).
 */
class DecoderFamiliesEndToEndSpec extends Specification {

    @Shared @TempDir
    Path tmp
    @Shared
    Path train
    @Shared
    Path valid

    NDManager m = Backend.get().manager()

    def setupSpec() {
        def chat = { String q, String a -> /{"messages": [{"role": "user", "content": "$q"}, {"role": "assistant", "content": "$a"}]}/ }
        train = Files.writeString(tmp.resolve('train.jsonl'), [chat('sky?', 'blue.'), chat('grass?', 'green.'),
                chat('snow?', 'white.'), chat('coal?', 'black.')].join('\n') + '\n')
        valid = Files.writeString(tmp.resolve('valid.jsonl'), chat('sky?', 'blue.') + '\n')
    }

    static void free(Object lm) {
        ((Module) lm)?.namedParameters()?.values()?.each { it.value().close() }
    }

    def "greedy generation with the KV cache picks the argmax of a full forward at every step, past any sliding window (#name)"() {
        given: 'a prompt of 5 tokens and 40 new ones: 45 positions over a window of 8 where the model has one'
        CausalLm lm = Registry.load(HfFixture.load(name).modelDir, Task.CAUSAL_LM)
        int[] prompt = [17, 42, 5, 99, 63]

        when:
        def cached = new Generator(lm, m).generate(prompt, GenerationConfig.greedy(40))
        List<Integer> seq = prompt as List
        40.times {
            try (def s = new StepScope()) {
                NDArray logits = lm.forward(m.create([seq as long[]] as long[][]), null, null, null)
                seq << (int) logits.get(0, seq.size() - 1).argMax().getLong()
            }
        }

        then:
        cached.ids() as List == seq.drop(prompt.length)

        cleanup:
        free(lm)

        where:
        name << ['qwen3', 'gemma3-text', 'gemma3-softcap', 'smollm3']
    }

    def "inspect marks as targets exactly the modules PEFT adapted for the same target_modules (#name)"() {
        given:
        HfFixture fx = HfFixture.load(name)
        Map adapterConfig = new ObjectMapper().readValue(fx.adapterDir.resolve('adapter_config.json').toFile(), Map)
        Set<String> peftAdapted = SafeTensors.read(fx.adapterDir.resolve('adapter_model.safetensors'), m).keySet()
                .collect { AdapterFiles.modelPath(it).replaceAll(/\.lora_[AB]\.weight$/, '') } as Set

        when:
        def report = ModelInspector.inspect(fx.modelDir.toString(),
                LoraConfig.of(4, 8, 0, adapterConfig.target_modules as List<String>, []))
        def byDefault = ModelInspector.inspect(fx.modelDir.toString(),
                LoraConfig.of(4, 8, 0, Registry.familyOf(fx.modelDir).loraTargets(), []))
        def allLinear = ModelInspector.inspect(fx.modelDir.toString(),
                LoraConfig.builder().r(4).alpha(8).allLinear().build())

        then:
        report.withRole(TARGET)*.path() as Set == peftAdapted
        report.problems().isEmpty()
        byDefault.withRole(TARGET)*.path()*.tokenize('.')*.last() as Set == ['q_proj', 'v_proj'] as Set
        byDefault.withRole(TARGET).size() == 2 * layers
        allLinear.withRole(TARGET)*.path()*.tokenize('.')*.last() as Set ==
                ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as Set
        allLinear.withRole(TARGET).size() == 7 * layers

        where:
        name           | layers
        'lora-qwen3'   | 2
        'lora-gemma3'  | 3
        'lora-smollm3' | 3
    }

    def "a #method run on #fixture lowers the validation loss and saves an adapter that merges into a loadable directory"() {
        given:
        Path model = FixtureModels.copy(fixture, tmp.resolve("$fixture-$method/model"))
        Files.copy(CharTokenizer.write(tmp.resolve("$fixture-$method/tok")), model.resolve('tokenizer.json'))
        LoraConfig lora = method == 'lora' ? LoraConfig.of(4, 8, 0, ['q_proj', 'v_proj'], []) : null
        AdaLoraConfig adalora = method == 'adalora' ? AdaLoraConfig.builder().initR(4).targetR(2).tinit(2).tfinal(2)
                .deltaT(1).alpha(8).targets(['q_proj', 'v_proj']).build() : null
        RunConfig config = new RunConfig('tiny-lm', BackendConfig.defaults(),
                new ModelSpec(null, model, TaskType.CAUSAL_LM, [], ModelInit.PRETRAINED), lora,
                new DataConfig(train, valid, null, 'text', 'label', 48, 0), OptimizerConfig.adamW(1e-2, 0.0),
                new ScheduleConfig(ScheduleConfig.Kind.CONSTANT, 0), new TrainConfig(4, 2, 1, 1.0, 42, 0, 0, 4), adalora,
                new CausalLmOptions(TextFormat.CHATS, ChatTemplate.CHATML, [], 4, false))
        Path run = tmp.resolve("$fixture-$method/run")

        when:
        Summary s = FineTune.run(config, new RunOptions(run, null, true), TrainingListener.NONE)
        Map saved = new ObjectMapper().readValue(run.resolve('adapter/adapter_config.json').toFile(), Map)
        MergedDecoder.merge(model, run.resolve('adapter'), tmp.resolve("$fixture-$method/merged"))
        CausalLm merged = Registry.load(tmp.resolve("$fixture-$method/merged"), Task.CAUSAL_LM)
        CausalLm adapted = MergedDecoder.load(model, run.resolve('adapter'))
        double difference
        try (def scope = new StepScope()) {
            NDArray ids = m.create([[5, 9, 17, 22, 30, 8, 11, 6, 19, 25, 7, 13] as long[]] as long[][])
            difference = HfFixture.compare(merged.forward(ids, null, null, null), adapted.forward(ids, null, null, null)).max
        }

        then:
        s.after().valid.loss < s.before().valid.loss
        saved.peft_type == method.toUpperCase()
        saved.task_type == 'CAUSAL_LM'
        difference < 1e-4

        cleanup:
        free(merged)
        free(adapted)

        where:
        [fixture, method] << [['qwen3', 'gemma3-text', 'smollm3'], ['lora', 'adalora']].combinations()
    }
}
