package org.peft4j.dsl

import org.peft4j.models.Registry
import org.peft4j.run.RunConfig
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * A lora or adalora block without {@code target} adapts the model family's default targets, which are
 * PEFT's for the model_type (TRANSFORMERS_MODELS_TO_LORA / _ADALORA_TARGET_MODULES_MAPPING in PEFT 0.21),
 * or the family's own where PEFT has none; a block that names targets keeps them.
 */
class DefaultTargetsSpec extends Specification {

    @TempDir
    Path dir

    def setup() {
        Files.createDirectories(dir.resolve('data'))
        Files.writeString(dir.resolve('data/train.jsonl'), '{"text": "win money now", "label": "spam"}\n')
    }

    /** A recipe over a model directory whose config.json names {@code modelType}; the family is read from it. */
    private RunConfig load(String modelType, String adapterBlock) {
        Path model = Files.createDirectories(dir.resolve("model-${modelType}"))
        Files.writeString(model.resolve('config.json'), """{"model_type": "${modelType}"}""")
        RecipeLoader.load(Files.writeString(dir.resolve('r.groovy'), """\
model { path '${model.toString().replace('\\', '/')}'; task classification(labels: ['ham', 'spam']) }
${adapterBlock}
data { train jsonl('data/train.jsonl') }
"""))
    }

    def "a #modelType recipe without target gets LoRA targets #lora and AdaLoRA targets #adalora"() {
        expect:
        load(modelType, 'lora { r 4 }').lora().targets() == lora
        load(modelType, 'adalora { initR 4; targetR 2 }').adalora().targets() == adalora

        // PEFT's mappings; where PEFT has none: xlm-roberta's and mistral's AdaLoRA take their architecture's,
        // modernbert takes its fused attention projection and smollm3 Llama's q_proj, v_proj
        where:
        modelType     | lora                         | adalora
        'bert'        | ['query', 'value']           | ['query', 'value']
        'roberta'     | ['query', 'value']           | ['query', 'key', 'value', 'dense']
        'xlm-roberta' | ['query', 'value']           | ['query', 'key', 'value', 'dense']
        'modernbert'  | ['Wqkv']                     | ['Wqkv']
        'deberta-v2'  | ['query_proj', 'value_proj'] | ['query_proj', 'key_proj', 'value_proj', 'dense']
        'llama'       | ['q_proj', 'v_proj']         | ['q_proj', 'v_proj']
        'mistral'     | ['q_proj', 'v_proj']         | ['q_proj', 'v_proj']
        'qwen2'       | ['q_proj', 'v_proj']         | ['q_proj', 'v_proj']
        'gpt2'        | ['c_attn']                   | ['c_attn']
        'qwen3'       | ['q_proj', 'v_proj']         | ['q_proj', 'v_proj']
        'gemma3_text' | ['q_proj', 'v_proj']         | ['q_proj', 'v_proj']
        'smollm3'     | ['q_proj', 'v_proj']         | ['q_proj', 'v_proj']
    }

    def "the table above covers every model_type the Registry serves"() {
        expect:
        Registry.modelTypes() as Set == ['bert', 'roberta', 'xlm-roberta', 'modernbert', 'deberta-v2', 'llama', 'mistral',
                                         'qwen2', 'gpt2', 'qwen3', 'gemma3_text', 'smollm3'] as Set
    }

    def "an embedded model is a BERT: its recipes get BERT's defaults"() {
        when:
        RunConfig config = RecipeLoader.load(Files.writeString(dir.resolve('m.groovy'), '''\
model { source 'bge-small-en'; task classification(labels: ['ham', 'spam']) }
lora { r 4 }
data { train jsonl('data/train.jsonl') }
'''))

        then:
        config.lora().targets() == ['query', 'value']
    }

    def "named targets, a regex and allLinear are kept as written"() {
        expect:
        load('llama', "lora { target 'o_proj' }").lora().targets() == ['o_proj']
        load('llama', 'lora { target ~/.*q_proj/ }').lora().targets() == []
        load('llama', 'lora { allLinear() }').lora().allLinear()
        load('llama', 'lora { allLinear() }').lora().targets() == []
        load('deberta-v2', "adalora { initR 4; targetR 2; target 'query_proj' }").adalora().targets() == ['query_proj']
    }

    def "when the model's family cannot be told, a block without target is refused with what to write"() {
        when:
        RecipeLoader.load(Files.writeString(dir.resolve('x.groovy'), """\
model { path '${dir.resolve('absent').toString().replace('\\', '/')}'; task classification(labels: ['ham', 'spam']) }
adalora { initR 4; targetR 2 }
data { train jsonl('data/train.jsonl') }
"""))

        then:
        def e = thrown(RecipeException)
        e.message.contains("adalora.target is missing: name the modules to adapt, e.g. target 'query', 'value'")
    }
}
