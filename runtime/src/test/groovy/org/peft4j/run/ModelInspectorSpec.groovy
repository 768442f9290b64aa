package org.peft4j.run

import ai.djl.ndarray.types.Shape
import org.peft4j.models.EmbeddedModels
import org.peft4j.models.bert.BertForSequenceClassification
import org.peft4j.models.bert.TinyBert
import org.peft4j.models.gpt2.TinyGpt2
import org.peft4j.models.llama.TinyLlama
import org.peft4j.peft.lora.AdapterFiles
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.tensor.Backend
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

import static org.peft4j.run.ModelInspector.Role.NONE
import static org.peft4j.run.ModelInspector.Role.SAVED
import static org.peft4j.run.ModelInspector.Role.TARGET

class ModelInspectorSpec extends Specification {

    static final LoraConfig QV = LoraConfig.of(8, 16, 0.1, ['query', 'value'], ['classifier'])

    @TempDir
    Path tmp

    def "inspect lists MiniLM's query layers with shape [384, 384] and marks what the config targets"() {
        when:
        def report = ModelInspector.inspect('minilm', QV)
        def query = report.rows().find { it.path() == 'bert.encoder.layer.0.attention.self.query' }

        then: 'all-MiniLM-L6-v2: 6 layers of H = 384, and a fresh 2-way head'
        query.kind() == 'Linear'
        query.weightShape() == new Shape(384, 384)
        query.parameters() == 384 * 384 + 384
        query.role() == TARGET
        report.rows().find { it.path() == 'bert.embeddings.word_embeddings' }.with {
            kind() == 'Embedding' && weightShape() == new Shape(30522, 384) && role() == NONE
        }
        report.rows().find { it.path() == 'bert.embeddings.LayerNorm' }.kind() == 'LayerNorm'
        report.rows().find { it.path() == 'bert.encoder.layer.5.attention.self.key' }.role() == NONE

        and: 'query and value of each of the 6 layers; the classifier trains in full'
        report.withRole(TARGET)*.path() == (0..5).collectMany { l ->
            ["bert.encoder.layer.${l}.attention.self.query", "bert.encoder.layer.${l}.attention.self.value"]*.toString()
        }
        report.withRole(SAVED)*.path() == ['classifier']

        and: "counts: Hugging Face's 22,713,216 for all-MiniLM-L6-v2 less its unused pooler (384² + 384), + 770 in the head; r(in + out) per target"
        report.totalParameters() == 22_713_216L - (384 * 384 + 384) + 770
        report.rows()[0].parameters() == report.totalParameters()
        report.adapterParameters() == 12 * 8 * (384 + 384) + 770

        and: 'the printed table has one line per module and the totals'
        def text = report.render()
        text.readLines().find { it.startsWith('bert.encoder.layer.0.attention.self.query ') } ==~
                /bert\.encoder\.layer\.0\.attention\.self\.query\s+Linear\s+\[384, 384\]\s+147,840  <- lora target/
        text.contains('minilm: 22,566,146 parameters; LoRA adapts 12 modules and saves 1; adapter: 74,498 parameters (0.33%)')
    }

    def "a tiny BERT directory is inspected as well, with the module kinds of the tree"() {
        given:
        def dir = new TinyBert(3).writeTo(tmp.resolve('tiny'))

        when:
        def report = ModelInspector.inspect(dir.toString(), null)

        then:
        report.rows()*.path().contains('bert.encoder.layer.1.attention.self.query')
        report.rows().find { it.path() == 'bert.encoder.layer.1.attention.self.query' }.weightShape() == new Shape(8, 8)
        report.rows().find { it.path() == 'bert.encoder.layer.1' }.with { kind() == 'BertLayer' && weightShape() == null }
        report.rows().every { it.role() == NONE }
        report.adapterParameters() == 0
        report.problems().isEmpty()
        !report.render().contains('<-')
    }

    def "a config that fits nothing is reported as a problem under the tree"() {
        given:
        def model = BertForSequenceClassification.fromPretrained(new TinyBert(3).writeTo(tmp.resolve('tiny')), 2, 0)

        when:
        def report = ModelInspector.inspect(model, 'tiny', LoraConfig.of(4, 8, 0, ['q_proj'], []))

        then:
        report.rows().size() > 30
        report.withRole(TARGET).isEmpty()
        report.problems() == ['lora.target [q_proj] matches no linear module; linear modules by name: [classifier, dense, key, query, value]']
        report.render().endsWith('problem: ' + report.problems()[0] + System.lineSeparator())
    }

    def "a MiniLM adapter with r = 8 on query and value and the classifier is a small file beside the model"() {
        given:
        def dir = EmbeddedModels.resolve('minilm')
        def model = BertForSequenceClassification.fromPretrained(dir, 2, 0)
        def lora = LoraInjector.inject(model, QV, Backend.get().manager())

        when:
        AdapterFiles.save(lora, tmp.resolve('adapter'), 'SEQ_CLS', 'sentence-transformers/all-MiniLM-L6-v2')
        long adapterBytes = Files.size(tmp.resolve('adapter/adapter_model.safetensors'))
        long modelBytes = Files.size(dir.resolve('model.safetensors'))
        println "adapter_model.safetensors: $adapterBytes bytes; model.safetensors: $modelBytes bytes; " +
                String.format('%.2f%%', 100.0 * adapterBytes / modelBytes)

        then: '74,498 f32 values plus a header'
        adapterBytes > 74_498 * 4 && adapterBytes < 74_498 * 4 + 8192
        adapterBytes < modelBytes / 100

        cleanup:
        model?.namedParameters()?.values()?.each { it.value().close() }
    }

    def "every family the registry loads is inspected, with its Hugging Face paths and LoRA targets (#family)"() {
        given:
        Path dir = write(tmp.resolve(family))

        when:
        def report = ModelInspector.inspect(dir.toString(), LoraConfig.of(4, 8, 0, [target], []))

        then:
        report.rows().find { it.path() == path }.with { kind() == kindName && weightShape() == new Shape(shape as long[]) }
        report.withRole(TARGET)*.path() == (0..1).collect { path.replace('.0.', ".${it}.") }
        report.problems().isEmpty()
        report.totalParameters() == report.rows()[0].parameters()

        where:
        family        | write                                                                                      | target   | path                                  | kindName | shape
        'llama'       | { Path d -> new TinyLlama(1).writeTo(d) }                                                 | 'q_proj' | 'model.layers.0.self_attn.q_proj'     | 'Linear' | [16, 16]
        'mistral'     | { Path d -> new TinyLlama(2, [model_type: 'mistral']).writeTo(d) }                        | 'k_proj' | 'model.layers.0.self_attn.k_proj'     | 'Linear' | [8, 16]
        'qwen2'       | { Path d -> new TinyLlama(3, [model_type: 'qwen2']).writeTo(d) }                          | 'v_proj' | 'model.layers.0.self_attn.v_proj'     | 'Linear' | [8, 16]
        'gpt2'        | { Path d -> new TinyGpt2(4).writeTo(d) }                                                  | 'c_attn' | 'transformer.h.0.attn.c_attn'         | 'Conv1D' | [8, 24]
        'roberta'     | { Path d -> new TinyBert(5).writeTo(d, [model_type: 'roberta', pad_token_id: 1]) }        | 'query'  | 'roberta.encoder.layer.0.attention.self.query' | 'Linear' | [8, 8]
        'xlm-roberta' | { Path d -> new TinyBert(6).writeTo(d, [model_type: 'xlm-roberta', pad_token_id: 1]) }    | 'value'  | 'roberta.encoder.layer.0.attention.self.value' | 'Linear' | [8, 8]
    }
}
