package org.peft4j.export

import org.peft4j.peft.lora.AdapterFiles
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.peft.lora.LoraLinear
import org.peft4j.peft.lora.LoraModel
import ai.djl.ndarray.NDManager
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.config.ConfigException
import org.peft4j.io.SafeTensors
import org.peft4j.models.bert.BertForSequenceClassification
import org.peft4j.models.bert.TinyBert
import org.peft4j.nn.Parameter
import org.peft4j.tensor.Backend
import org.peft4j.testing.TinyTokenizer
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class MergedExportSpec extends Specification {

    NDManager manager = Backend.get().manager()

    @TempDir
    Path tmp

    static final long[][] IDS = [[2, 4, 9, 13, 3, 0], [2, 7, 5, 11, 18, 3]]
    static final long[][] MASK = [[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]]

    Path baseDir() {
        TinyTokenizer.writeTo(new TinyBert(5).writeTo(tmp.resolve('base')))
    }

    /**
     * Base + LoRA r=2 on query and value + the head saved (the classifier and the pooler, which the tiny BERT has no
     * weights for), with a random B so that the adapter changes the output.
     */
    LoraModel adapted(Path dir, LoraConfig config = LoraConfig.of(2, 4, 0.1, ['query', 'value'], ['classifier', 'pooler'])) {
        Backend.get().seed(17)
        def model = BertForSequenceClassification.fromPretrained(dir, 3, 1)
        def lora = LoraInjector.inject(model, config, manager)
        lora.layers().values().each { randomize(it.loraB().weight()) }
        randomize(model.namedParameters()['classifier.weight'])
        lora
    }

    void randomize(Parameter p) {
        p.set(manager.randomNormal(0f, 0.5f, p.value().getShape(), p.value().getDataType()))
    }

    float[] logits(BertForSequenceClassification model) {
        model.train(false)
        model.forward(manager.create(IDS), manager.create(MASK), null).toFloatArray()
    }

    /** Equal within 1e-5 of the largest logit's magnitude. */
    static boolean close(float[] a, float[] b) {
        double scale = b.collect { Math.abs(it) }.max()
        a.length == b.length && (0..<a.length).every { Math.abs(a[it] - b[it]) <= 1e-5 * scale }
    }

    def "merged export loads back as a plain model with the same logits as base + adapter"() {
        given:
        def dir = baseDir()
        def lora = adapted(dir)
        def model = (BertForSequenceClassification) lora.root()
        def expected = logits(model)
        def before = model.namedParameters().collectEntries { k, v -> [k, v.value().toFloatArray()] }

        when:
        MergedExport.write(lora, dir, tmp.resolve('merged'), ['ham', 'spam', 'eggs'])
        def plain = BertForSequenceClassification.fromPretrained(tmp.resolve('merged'), 3, 99)

        then: 'the same logits, from a model without adapters (seed 99 would draw another classifier: it came from the file)'
        close(logits(plain), expected)
        plain.namedModules().values().every { !(it instanceof LoraLinear) }

        and: 'the file holds plain names only, the classifier included'
        def names = SafeTensors.names(tmp.resolve('merged/model.safetensors')) as Set
        names == plain.namedParameters().keySet()
        names.contains('classifier.weight')
        names.contains('bert.encoder.layer.0.attention.self.query.weight')

        and: 'config.json says what the head is; the tokenizer came along'
        def config = new ObjectMapper().readTree(tmp.resolve('merged/config.json').toFile())
        config.get('architectures').collect { it.asText() } == ['BertForSequenceClassification']
        config.get('num_labels').asInt() == 3
        config.get('id2label').get('2').asText() == 'eggs'
        config.get('label2id').get('spam').asInt() == 1
        config.get('hidden_size').asInt() == TinyBert.H
        Files.mismatch(tmp.resolve('merged/tokenizer.json'), dir.resolve('tokenizer.json')) == -1L

        and: 'the in-memory model is unmerged again: same weights up to rounding, same logits'
        lora.layers().values().every { !it.isMerged() }
        model.namedParameters().every { k, v -> close(v.value().toFloatArray(), before[k] as float[]) }
        close(logits(model), expected)

        and: 'no scratch directory is left next to the output'
        Files.list(tmp).withCloseable { s -> s.map { it.fileName.toString() }.toList() } as Set == ['base', 'merged'] as Set
    }

    def "a DoRA adapter exports too, and an already merged model stays merged"() {
        given:
        def dir = baseDir()
        def lora = adapted(dir, LoraConfig.builder().r(2).alpha(4).targets('query', 'value')
                .modulesToSave('classifier', 'pooler').useDora(true).build())
        lora.layers().values().each { randomize(it.magnitude()) }
        def expected = logits((BertForSequenceClassification) lora.root())
        lora.merge()

        when:
        MergedExport.write(lora, dir, tmp.resolve('merged'))

        then:
        close(logits(BertForSequenceClassification.fromPretrained(tmp.resolve('merged'), 3, 99)), expected)
        lora.layers().values().every { it.isMerged() }
        def config = new ObjectMapper().readTree(tmp.resolve('merged/config.json').toFile())
        config.get('num_labels').asInt() == 3 && !config.has('id2label')
    }

    def "the offline merge of a saved adapter gives the logits of base + adapter"() {
        given:
        def dir = baseDir()
        def lora = adapted(dir)
        def expected = logits((BertForSequenceClassification) lora.root())
        AdapterFiles.save(lora, tmp.resolve('adapter'), 'SEQ_CLS', dir.toString())

        when:
        MergedExport.merge(dir, tmp.resolve('adapter'), tmp.resolve('out/merged'), 3)

        then:
        close(logits(BertForSequenceClassification.fromPretrained(tmp.resolve('out/merged'), 3, 99)), expected)
    }

    def "the offline merge takes the number of classes from the adapter's classifier, and names them when given labels"() {
        given:
        def dir = baseDir()
        def lora = adapted(dir)
        def expected = logits((BertForSequenceClassification) lora.root())
        AdapterFiles.save(lora, tmp.resolve('adapter'), 'SEQ_CLS', dir.toString())

        when:
        MergedExport.merge(dir, tmp.resolve('adapter'), tmp.resolve('counted'), (List<String>) null)
        MergedExport.merge(dir, tmp.resolve('adapter'), tmp.resolve('named'), ['x', 'y', 'z'])
        def json = new ObjectMapper()

        then:
        close(logits(BertForSequenceClassification.fromPretrained(tmp.resolve('counted'), 3, 99)), expected)
        json.readTree(tmp.resolve('counted/config.json').toFile()).get('num_labels').asInt() == 3
        json.readTree(tmp.resolve('named/config.json').toFile()).get('id2label').get('1').asText() == 'y'
    }

    def "without labels, an adapter that saves no classifier on a model without one is refused"() {
        given:
        def dir = baseDir()
        AdapterFiles.save(adapted(dir, LoraConfig.of(2, 4, 0, ['query'], [])), tmp.resolve('adapter'), 'SEQ_CLS', 'tiny')

        when:
        MergedExport.merge(dir, tmp.resolve('adapter'), tmp.resolve('out'), (List<String>) null)

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains("holds a classifier's output layer (classifier, classifier.out_proj or score), so the number of"
                + ' classes is unknown')
        !Files.exists(tmp.resolve('out'))
    }

    def "an adapter that does not fit the model gives a clear error from merge, and nothing is written"() {
        given: 'an adapter trained on a 3-label head, and an adapter for Llama-style module names'
        def dir = baseDir()
        AdapterFiles.save(adapted(dir), tmp.resolve('adapter'), 'SEQ_CLS', dir.toString())
        def llama = tmp.resolve('llama-adapter')
        Files.createDirectories(llama)
        Files.writeString(llama.resolve('adapter_config.json'),
                '{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj", "v_proj"]}')
        SafeTensors.write(llama.resolve('adapter_model.safetensors'),
                ['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight': manager.zeros(new ai.djl.ndarray.types.Shape(2, 8))],
                [format: 'pt'])

        when: 'merged into a 2-label head'
        MergedExport.merge(dir, tmp.resolve('adapter'), tmp.resolve('out'), 2)

        then:
        def e = thrown(ConfigException)
        e.message.contains("tensor 'base_model.model.classifier.weight' has shape (3, 8) but the model expects (2, 8)")
        !Files.exists(tmp.resolve('out'))

        when: 'an adapter for other module names'
        MergedExport.merge(dir, llama, tmp.resolve('out'), 2)

        then:
        def e2 = thrown(ConfigException)
        e2.message.contains('does not fit the model')
        e2.message.contains("lora.target [q_proj, v_proj] matches no linear module")
        e2.message.contains('linear modules by name: [classifier, dense, key, query, value]')
        !Files.exists(tmp.resolve('out'))
    }

    def "an output directory that holds something is refused before any work"() {
        given:
        def dir = baseDir()
        Files.createDirectories(tmp.resolve('out'))
        Files.writeString(tmp.resolve('out/keep.txt'), 'mine')

        when:
        MergedExport.write(adapted(dir), dir, tmp.resolve('out'))

        then:
        def e = thrown(IOException)
        e.message.contains('already exists and is not empty')
        Files.readString(tmp.resolve('out/keep.txt')) == 'mine'
    }

    def "label names must fit the classifier"() {
        when:
        MergedExport.write(adapted(baseDir()), tmp.resolve('base'), tmp.resolve('out'), ['ham', 'spam'])

        then:
        def e = thrown(IllegalArgumentException)
        e.message == '2 labels [ham, spam] were given for a classifier with 3 outputs; give one name per class'
        !Files.exists(tmp.resolve('out'))
    }
}
