package org.peft4j.run

import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.config.ConfigException
import org.peft4j.data.ChatTemplate
import org.peft4j.data.DataConfig
import org.peft4j.data.TextFormat
import org.peft4j.embedding.LossKind
import org.peft4j.embedding.PoolingMode
import org.peft4j.embedding.TinyEncoderDir
import org.peft4j.models.ModelSpec
import org.peft4j.models.TaskType
import org.peft4j.models.llama.TinyLlama
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.tensor.BackendConfig
import org.peft4j.testing.CharTokenizer
import org.peft4j.train.OptimizerConfig
import org.peft4j.train.ScheduleConfig
import org.peft4j.train.TrainConfig
import org.peft4j.train.TrainingListener
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** The pre-flight on tiny models of every task: one step, save, reload into a fresh base model, merge. */
class PreflightSpec extends Specification {

    @Shared @TempDir
    Path tmp

    static final ObjectMapper JSON = new ObjectMapper()

    Path jsonl(String name, List<Map> rows) {
        Files.write(tmp.resolve(name), rows.collect { JSON.writeValueAsString(it) })
    }

    static final OptimizerConfig OPTIMIZER = OptimizerConfig.adamW(1e-2, 0.0)
    static final ScheduleConfig SCHEDULE = new ScheduleConfig(ScheduleConfig.Kind.CONSTANT, 0)
    static final TrainConfig TRAIN = new TrainConfig(1, 4, 1, 1.0, 42, 0, 0, 4)

    RunConfig classification(LoraConfig lora, AdaLoraConfig adalora) {
        Path model = TinyEncoderDir.write(tmp.resolve('encoder'), 3)
        Path train = jsonl('labelled.jsonl', (0..<8).collect { [text: "w${4 + it} w${5 + it}".toString(), label: it % 2 ? 'b' : 'a'] })
        new RunConfig('tiny-cls', BackendConfig.defaults(), new ModelSpec(null, model, TaskType.CLASSIFICATION, ['a', 'b']),
                lora, new DataConfig(train, null, null, 'text', 'label', 8, 0), OPTIMIZER, SCHEDULE, TRAIN, adalora)
    }

    RunConfig embedding() {
        Path model = TinyEncoderDir.write(tmp.resolve('encoder'), 3)
        Path train = jsonl('pairs.jsonl', (0..<8).collect { [anchor: "w${4 + it}".toString(), positive: "w${12 + it}".toString()] })
        RunConfig.embedding('tiny-embed', BackendConfig.defaults(), new ModelSpec(null, model, TaskType.EMBEDDING, []),
                new EmbeddingOptions(PoolingMode.MEAN, LossKind.INFONCE, 0.1), LoraConfig.of(4, 8, 0.0, ['query', 'value'], []),
                DataConfig.embedding(train, null, null, null, 8, 0), OPTIMIZER, SCHEDULE, TRAIN)
    }

    RunConfig causalLm() {
        Path model = new TinyLlama(5).writeTo(tmp.resolve('llama'))
        Files.copy(CharTokenizer.write(tmp.resolve('tok')), model.resolve('tokenizer.json'), java.nio.file.StandardCopyOption.REPLACE_EXISTING)
        def chat = { String q, String a -> [messages: [[role: 'user', content: q], [role: 'assistant', content: a]]] }
        Path train = jsonl('chats.jsonl', [chat('sky?', 'blue.'), chat('grass?', 'green.'), chat('snow?', 'white.'), chat('coal?', 'black.')])
        new RunConfig('tiny-lm', BackendConfig.defaults(), new ModelSpec(null, model, TaskType.CAUSAL_LM, []),
                LoraConfig.of(4, 8, 0.0, ['q_proj', 'v_proj'], []), new DataConfig(train, null, null, 'text', 'label', 64, 0),
                OPTIMIZER, SCHEDULE, TRAIN, null, new CausalLmOptions(TextFormat.CHATS, ChatTemplate.CHATML, [], 4, false))
    }

    def "#task: the reloaded adapter reproduces the trained model exactly and its merge to float rounding, far below what the step moved"() {
        when:
        Preflight.Result r = Preflight.run(config(), TrainingListener.NONE)

        then:
        r.passed()
        Double.isFinite(r.step())
        r.reload().largest() == 0d
        r.reload().inputs() == 4
        r.merge().largest() < 1e-5 * Math.max(1, r.merge().scale())
        // the step moved the outputs, so a reload or merge that lost the adapter would show
        r.moved().largest() > 100 * r.merge().largest()
        r.moved().largest() > 1e-4

        where:
        task                        | config
        'classification, LoRA'      | { -> classification(LoraConfig.of(4, 8, 0.0, ['query', 'value'], ['classifier', 'pooler']), null) }
        'classification, AdaLoRA'   | { -> classification(null, AdaLoraConfig.builder().initR(4).targetR(2).alpha(8).targets(['query', 'value']).modulesToSave(['classifier', 'pooler']).build()) }
        'embedding, LoRA'           | { -> embedding() }
        'causal LM, LoRA'           | { -> causalLm() }
    }

    def "a recipe without an adapter is refused: there is nothing to save, reload or merge"() {
        when:
        Preflight.run(classification(null, null), TrainingListener.NONE)

        then:
        ConfigException e = thrown()
        e.message.contains('has no lora or adalora block')
    }

    def "the pre-flight leaves nothing on disk"() {
        given:
        Path scratch = Path.of(System.getProperty('java.io.tmpdir'))
        Set<String> before = Files.list(scratch).withCloseable { s -> s.map { it.fileName.toString() }.filter { it.startsWith('peft4j-preflight-') }.toList() as Set }

        when:
        Preflight.run(classification(LoraConfig.of(4, 8, 0.0, ['query', 'value'], ['classifier', 'pooler']), null), TrainingListener.NONE)
        Set<String> after = Files.list(scratch).withCloseable { s -> s.map { it.fileName.toString() }.filter { it.startsWith('peft4j-preflight-') }.toList() as Set }

        then:
        after == before
    }
}
