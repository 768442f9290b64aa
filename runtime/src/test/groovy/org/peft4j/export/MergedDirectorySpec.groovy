package org.peft4j.export

import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.io.SafeTensors
import org.peft4j.models.bert.BertForSequenceClassification
import org.peft4j.models.bert.BertModel
import org.peft4j.models.bert.TinyBert
import org.peft4j.nn.Module
import org.peft4j.nn.Parameter
import org.peft4j.peft.AdapterModel
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.adalora.AdaLoraInjector
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.TinyTokenizer
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * The merged directory is a complete Hugging Face directory: every weight of the base checkpoint
 * (BERT's pooler too, which peft4j's encoders do not use), config.json with the labels, the
 * tokenizer files with what AutoTokenizer needs, the chat template and generation config; for
 * LoRA and AdaLoRA alike, on a classifier or on the bare encoder an embedding adapter trains.
 */
class MergedDirectorySpec extends Specification {

    NDManager m = Backend.get().manager()

    @TempDir
    Path tmp

    static final long[][] IDS = [[2, 4, 9, 13, 3, 0], [2, 7, 5, 11, 18, 3]]
    static final long[][] MASK = [[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]]
    static final int H = TinyBert.H

    /** A bare-encoder checkpoint (MiniLM's naming) with a pooler, a tokenizer, a chat template and a generation config. */
    Path baseDir(Map config = [:]) {
        Backend.get().seed(8)
        def pooler = ['pooler.dense.weight': [[H, H], (0..<H * H).collect { Math.sin(it) * 0.1 } as double[]],
                      'pooler.dense.bias'  : [[H], (0..<H).collect { Math.cos(it) * 0.1 } as double[]]]
        Path dir = TinyTokenizer.writeTo(new TinyBert(5).writeTo(tmp.resolve('base'), config, { it }, pooler))
        Files.writeString(dir.resolve('chat_template.jinja'), '{{ messages }}')
        Files.writeString(dir.resolve('generation_config.json'), '{"max_length": 20}')
        dir
    }

    static AdapterModel lora(Module model, NDManager m, List<String> save) {
        LoraInjector.inject(model, LoraConfig.of(2, 4, 0, ['query', 'value'], save), m)
    }

    static AdapterModel adalora(Module model, NDManager m, List<String> save) {
        AdaLoraInjector.inject(model, AdaLoraConfig.builder().initR(3).targetR(2).tinit(1).tfinal(1).totalSteps(10)
                .alpha(6).targets(['query', 'value']).modulesToSave(save).build(), m)
    }

    void perturb(AdapterModel adapter) {
        Backend.get().seed(2)
        adapter.adapterParameters().values().each { Parameter p ->
            p.set(m.randomNormal(0f, 0.5f, p.value().shape, DataType.FLOAT32))
        }
    }

    static double maxDiff(float[] a, float[] b) {
        (0..<a.length).collect { Math.abs(a[it] - b[it]) }.max() as double
    }

    def "a #method classifier merges into a directory with every base weight, its labels and AutoTokenizer's files"() {
        given:
        Path base = baseDir()
        def model = BertForSequenceClassification.fromPretrained(base, 3, 1)
        AdapterModel adapter = inject(model, m, ['classifier'])
        perturb(adapter)
        model.train(false)
        float[] expected = model.forward(m.create(IDS), m.create(MASK), null).toFloatArray()
        adapter.save(tmp.resolve('adapter'), 'SEQ_CLS', base.toString())

        when:
        MergedExport.merge(base, tmp.resolve('adapter'), tmp.resolve('merged'), ['ham', 'spam', 'eggs'])
        Path out = tmp.resolve('merged')
        def names = SafeTensors.names(out.resolve('model.safetensors')) as Set
        def json = new ObjectMapper()

        then: 'the logits of base + adapter from a model without adapters'
        maxDiff(BertForSequenceClassification.fromPretrained(out, 3, 99).with { it.train(false); it }
                .forward(m.create(IDS), m.create(MASK), null).toFloatArray(), expected) < 1e-5

        and: "the pooler is kept under the classifier's naming, with the base's values"
        names.containsAll(['bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight',
                           'bert.encoder.layer.0.attention.self.query.weight'])
        !names.any { it.contains('lora_') || it.contains('base_layer') }
        SafeTensors.read(out.resolve('model.safetensors'), m, ['bert.pooler.dense.bias'] as Set)['bert.pooler.dense.bias']
                .toFloatArray() == SafeTensors.read(base.resolve('model.safetensors'), m, ['pooler.dense.bias'] as Set)['pooler.dense.bias'].toFloatArray()

        and: 'config.json names the head and the labels; the tokenizer config says the limit and the special tokens'
        def config = json.readTree(out.resolve('config.json').toFile())
        config.get('architectures')[0].asText() == 'BertForSequenceClassification'
        config.get('id2label').get('1').asText() == 'spam'
        def tok = json.readTree(out.resolve('tokenizer_config.json').toFile())
        tok.get('model_max_length').asInt() == TinyBert.MAX_POS
        tok.get('cls_token').asText() == '[CLS]' && tok.get('pad_token').asText() == '[PAD]'

        and: 'the tokenizer, chat template and generation config are the base\'s'
        ['tokenizer.json', 'chat_template.jinja', 'generation_config.json'].every {
            Files.mismatch(out.resolve(it), base.resolve(it)) == -1L
        }

        where:
        method    | inject
        'LoRA'    | MergedDirectorySpec.&lora
        'AdaLoRA' | MergedDirectorySpec.&adalora
    }

    def "labels not given keep the base's own when there is one per class"() {
        given:
        Path base = baseDir([id2label: ['0': 'no', '1': 'maybe', '2': 'yes'], label2id: [no: 0, maybe: 1, yes: 2]])
        def model = BertForSequenceClassification.fromPretrained(base, 3, 1)
        AdapterModel adapter = lora(model, m, ['classifier'])
        adapter.save(tmp.resolve('adapter'), 'SEQ_CLS', base.toString())

        when:
        MergedExport.merge(base, tmp.resolve('adapter'), tmp.resolve('merged'), null)

        then:
        new ObjectMapper().readTree(tmp.resolve('merged/config.json').toFile()).get('id2label').get('2').asText() == 'yes'
    }

    def "a #method embedding adapter merges into the bare encoder under the checkpoint's names"() {
        given:
        Path base = baseDir()
        def bert = BertModel.fromPretrained(base)
        AdapterModel adapter = inject(bert, m, [])
        perturb(adapter)
        bert.train(false)
        float[] expected
        try (def s = new StepScope()) {
            expected = bert.forward(m.create(IDS), m.create(MASK), null).toFloatArray()
        }
        adapter.save(tmp.resolve('adapter'), 'FEATURE_EXTRACTION', base.toString())

        when:
        MergedExport.merge(base, tmp.resolve('adapter'), tmp.resolve('merged'), null)
        Path out = tmp.resolve('merged')

        then: 'the base checkpoint\'s names exactly, the pooler included, and base + adapter\'s hidden states'
        SafeTensors.names(out.resolve('model.safetensors')) == SafeTensors.names(base.resolve('model.safetensors'))
        Files.readString(out.resolve('config.json')) == Files.readString(base.resolve('config.json'))
        try (def s = new StepScope()) {
            maxDiff(BertModel.fromPretrained(out).forward(m.create(IDS), m.create(MASK), null).toFloatArray(), expected) < 1e-5
        }

        where:
        method    | inject
        'LoRA'    | MergedDirectorySpec.&lora
        'AdaLoRA' | MergedDirectorySpec.&adalora
    }
}
