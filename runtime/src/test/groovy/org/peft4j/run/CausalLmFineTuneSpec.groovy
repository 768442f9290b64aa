package org.peft4j.run

import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.data.ChatTemplate
import org.peft4j.data.DataConfig
import org.peft4j.data.TextFormat
import org.peft4j.io.SafeTensors
import org.peft4j.models.Registry
import org.peft4j.models.core.Task
import org.peft4j.models.ModelInit
import org.peft4j.models.ModelSpec
import org.peft4j.models.TaskType
import org.peft4j.models.llama.TinyLlama
import org.peft4j.nn.Module
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.tensor.Backend
import org.peft4j.tensor.BackendConfig
import org.peft4j.testing.CharTokenizer
import org.peft4j.train.Checkpoints
import org.peft4j.train.OptimizerConfig
import org.peft4j.train.ScheduleConfig
import org.peft4j.train.TrainConfig
import org.peft4j.train.TrainingListener
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption

/** FineTune on a causal-LM task: a tiny Llama (TinyLlama) with a character tokenizer, through the shared pipeline. */
class CausalLmFineTuneSpec extends Specification {

    @Shared @TempDir
    Path tmp
    @Shared
    Path modelDir
    @Shared
    Path train
    @Shared
    Path valid

    def setupSpec() {
        modelDir = new TinyLlama(5).writeTo(tmp.resolve('model'))
        Files.copy(CharTokenizer.write(tmp.resolve('tok')), modelDir.resolve('tokenizer.json'))
        def chat = { String q, String a -> /{"messages": [{"role": "user", "content": "$q"}, {"role": "assistant", "content": "$a"}]}/ }
        train = Files.writeString(tmp.resolve('train.jsonl'), [chat('sky?', 'blue.'), chat('grass?', 'green.'),
                chat('snow?', 'white.'), chat('coal?', 'black.')].join('\n') + '\n')
        valid = Files.writeString(tmp.resolve('valid.jsonl'), chat('sky?', 'blue.') + '\n')
    }

    RunConfig config(LoraConfig lora, ModelInit init = ModelInit.PRETRAINED, Path dir = modelDir,
                     ChatTemplate template = ChatTemplate.CHATML) {
        new RunConfig('tiny-lm', BackendConfig.defaults(), new ModelSpec(null, dir, TaskType.CAUSAL_LM, [], init),
                lora, new DataConfig(train, valid, null, 'text', 'label', 64, 0),
                OptimizerConfig.adamW(1e-2, 0.0), new ScheduleConfig(ScheduleConfig.Kind.CONSTANT, 0), new TrainConfig(8, 2, 1, 1.0, 42, 0, 0, 4)
                .withCheckpoints(4, 10), null,
                new CausalLmOptions(TextFormat.CHATS, template, ['sky?'], 6, false))
    }

    static final String CHATML_JINJA = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + " +
            "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"

    /** The tiny model with its chat template where {@code files} put it (name -> text). */
    Path withTemplate(String name, Map<String, String> files) {
        Path dir = Files.createDirectories(tmp.resolve(name))
        Files.list(modelDir).withCloseable { s -> s.each { Files.copy(it, dir.resolve(it.fileName), StandardCopyOption.REPLACE_EXISTING) } }
        files.each { f, text -> Files.writeString(dir.resolve(f), text) }
        dir
    }

    def "without a template in the recipe, check and run take the model's own from chat_template.jinja (Transformers 5), else tokenizer_config.json"() {
        given:
        def lora = LoraConfig.of(2, 4, 0.0, ['q_proj', 'v_proj'], [])
        def tokenizerConfig = new ObjectMapper().writeValueAsString([chat_template: CHATML_JINJA])
        def unknown = '{% for m in messages %}{{ m.content }}{% endfor %}'

        when: 'Transformers 5 saves it beside the tokenizer'
        FineTune.plan(config(lora, ModelInit.PRETRAINED, withTemplate('v5', ['chat_template.jinja': CHATML_JINJA]), null),
                TrainingListener.NONE)
        and: 'Transformers 4 kept it in tokenizer_config.json'
        FineTune.plan(config(lora, ModelInit.PRETRAINED, withTemplate('v4', ['tokenizer_config.json': tokenizerConfig]), null),
                TrainingListener.NONE)

        then:
        noExceptionThrown()

        when: 'chat_template.jinja takes priority, as in Transformers'
        FineTune.plan(config(lora, ModelInit.PRETRAINED, withTemplate('both', ['tokenizer_config.json': tokenizerConfig,
                'chat_template.jinja': unknown]), null), TrainingListener.NONE)

        then:
        def e = thrown(org.peft4j.config.ConfigException)
        e.message.contains('has a chat template peft4j does not know')

        when:
        FineTune.plan(config(lora, ModelInit.PRETRAINED, withTemplate('none', [:]), null), TrainingListener.NONE)

        then:
        def none = thrown(org.peft4j.config.ConfigException)
        none.message.contains("has no chat template (chat_template.jinja, or tokenizer_config.json's chat_template)")
    }

    def "a LoRA run lowers the answers' loss, reports perplexity = exp(loss), and saves a CAUSAL_LM adapter"() {
        when:
        Summary s = FineTune.run(config(LoraConfig.of(4, 8, 0, ['q_proj', 'v_proj'], [])),
                new RunOptions(tmp.resolve('lora'), null, true), TrainingListener.NONE)
        Map adapter = new ObjectMapper().readValue(tmp.resolve("lora/adapter/adapter_config.json").toFile(), Map)

        then:
        s.after().valid.loss < s.before().valid.loss
        Math.abs(s.after().valid.perplexity - Math.exp(s.after().valid.loss)) < 1e-9 * s.after().valid.perplexity
        s.after().valid.tokens == 'blue.'.length() + 1          // the answer and <|im_end|>, nothing of the prompt
        adapter.task_type == 'CAUSAL_LM'
        s.samples()*.prompt() == ['sky?']
        s.samples()[0].before() != null && s.samples()[0].after() != null
    }

    def "full training saves a Hugging Face directory that loads back with the trained weights"() {
        when:
        Summary s = FineTune.run(config(null), new RunOptions(tmp.resolve('full'), null, false), TrainingListener.NONE)
        Path saved = tmp.resolve('full/model')
        def reloaded = (Module) Registry.load(saved, Task.CAUSAL_LM)
        def trained = SafeTensors.read(saved.resolve('model.safetensors'), Backend.get().manager())

        then:
        s.trainableParams() == s.totalParams()
        ['config.json', 'tokenizer.json', 'model.safetensors'].every { Files.isRegularFile(saved.resolve(it)) }
        reloaded.namedParameters().keySet() == trained.keySet()
        reloaded.namedParameters().every { k, p -> p.value().toFloatArray() == trained[k].toFloatArray() }
        reloaded.namedParameters()['model.layers.0.mlp.up_proj.weight'].value().toFloatArray() !=
                new TinyLlama(5).tensors['model.layers.0.mlp.up_proj.weight'][1]
    }

    def "random init draws N(0, 0.02²) for every linear and embedding weight and keeps the norms at one"() {
        when:
        def lm = (Module) Registry.random(modelDir, Task.CAUSAL_LM, 7)
        float[] q = lm.namedParameters()['model.layers.1.self_attn.q_proj.weight'].value().toFloatArray()
        double mean = q.sum() / q.length
        double std = Math.sqrt(q.collect { (it - mean) * (it - mean) }.sum() / q.length)

        then: "256 draws: the sample std is within 15% of 0.02"
        Math.abs(std - 0.02) < 0.003
        lm.namedParameters()['model.norm.weight'].value().toFloatArray().every { it == 1f }
        lm.namedParameters()['model.embed_tokens.weight'].value().toFloatArray().any { it != 0f }
    }

    def "a run (16 steps) resumed from its step-4 checkpoint ends with the weights of the uninterrupted run"() {
        given:
        RunConfig c = config(LoraConfig.of(4, 8, 0, ['q_proj', 'v_proj'], []))
        FineTune.run(c, new RunOptions(tmp.resolve('whole'), null, false), TrainingListener.NONE)
        Path cut = tmp.resolve('cut')
        copyTree(tmp.resolve('whole'), cut)
        cut.resolve('checkpoints').toFile().listFiles().findAll { it.name != Checkpoints.name(4) }
                .each { it.deleteDir() }
        Files.delete(cut.resolve('summary.json'))

        when:
        FineTune.run(c, new RunOptions(cut, null, false, true), TrainingListener.NONE)
        def whole = SafeTensors.read(tmp.resolve('whole/adapter/adapter_model.safetensors'), Backend.get().manager())
        def resumed = SafeTensors.read(cut.resolve('adapter/adapter_model.safetensors'), Backend.get().manager())

        then:
        whole.keySet() == resumed.keySet()
        whole.every { k, v -> v.toFloatArray() == resumed[k].toFloatArray() }
    }

    private static void copyTree(Path from, Path to) {
        Files.walk(from).withCloseable { s ->
            s.each { Path p -> Files.copy(p, to.resolve(from.relativize(p).toString()), StandardCopyOption.REPLACE_EXISTING) }
        }
    }
}
