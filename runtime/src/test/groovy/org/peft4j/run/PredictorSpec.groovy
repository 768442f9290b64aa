package org.peft4j.run

import ai.djl.ndarray.NDManager
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.data.DataFileException
import org.peft4j.models.bert.BertForSequenceClassification
import org.peft4j.models.bert.TinyBert
import org.peft4j.nn.Parameter
import org.peft4j.peft.lora.AdapterFiles
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.export.MergedExport
import org.peft4j.tensor.Backend
import org.peft4j.testing.TinyTokenizer
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class PredictorSpec extends Specification {

    static final List<String> LABELS = ['ham', 'spam', 'eggs']

    NDManager manager = Backend.get().manager()

    @TempDir
    Path tmp

    Path base
    Path adapter
    Path merged
    /** Logits of the adapted model in memory, computed directly from hand-tokenized ids. */
    float[] direct

    def setup() {
        base = TinyTokenizer.writeTo(new TinyBert(5).writeTo(tmp.resolve('base')))
        Backend.get().seed(23)
        def model = BertForSequenceClassification.fromPretrained(base, 3, 1)
        def lora = LoraInjector.inject(model, LoraConfig.of(2, 4, 0.1, ['query', 'value'], ['classifier', 'pooler']), manager)
        lora.layers().values().each { randomize(it.loraB().weight()) }
        randomize(model.namedParameters()['classifier.weight'])
        model.train(false)
        // "a e j" -> [CLS] a e j [SEP] = 2 4 8 13 3
        direct = model.forward(manager.create([[2L, 4L, 8L, 13L, 3L]] as long[][]), null, null).toFloatArray()
        adapter = tmp.resolve('adapter')
        AdapterFiles.save(lora, adapter, 'SEQ_CLS', base.toString())
        merged = tmp.resolve('merged')
        MergedExport.write(lora, base, merged, LABELS)
    }

    void randomize(Parameter p) {
        p.set(manager.randomNormal(0f, 0.5f, p.value().getShape(), p.value().getDataType()))
    }

    static boolean close(List<Float> a, List<Float> b) {
        double scale = b.collect { Math.abs(it) }.max()
        a.size() == b.size() && (0..<a.size()).every { Math.abs(a[it] - b[it]) <= 1e-5 * scale }
    }

    List<Map> read(Path file) {
        def json = new ObjectMapper()
        Files.readAllLines(file).collect { json.readValue(it, Map) }
    }

    def "Predictor gives the same logits with the merged export and with base + adapter"() {
        given: 'texts of different lengths, so batches pad, and a blank line'
        def input = tmp.resolve('in.jsonl')
        Files.writeString(input, '{"text": "a e j"}\n{"text": "p o n m l k"}\n\n{"text": "b", "id": 7}\n{"text": "c d"}\n')

        when:
        def n1 = Predictor.open(base, adapter, LABELS, 0).withCloseable { it.predict(input, tmp.resolve('a.jsonl'), 'text', 2) }
        def n2 = Predictor.open(merged, null, null, 0).withCloseable { it.predict(input, tmp.resolve('m.jsonl'), 'text', 3) }
        def withAdapter = read(tmp.resolve('a.jsonl'))
        def fromMerged = read(tmp.resolve('m.jsonl'))

        then: 'one output per non-blank line, numbered by its input line'
        n1 == 4 && n2 == 4
        withAdapter*.line == [1, 2, 4, 5]
        fromMerged*.line == [1, 2, 4, 5]

        and: 'the same logits and labels; the merged export named its labels from config.json'
        (0..3).every { close(fromMerged[it].logits as List<Float>, withAdapter[it].logits as List<Float>) }
        fromMerged*.label == withAdapter*.label
        withAdapter.every { it.label in LABELS }
        withAdapter.every { Map row -> row.label == LABELS[(0..2).max { row.logits[it] as double }] }

        and: 'the first line matches the model run by hand on its token ids'
        close(withAdapter[0].logits as List<Float>, direct as List<Float>)
    }

    def "logits are written with full float precision"() {
        given:
        def input = tmp.resolve('in.jsonl')
        Files.writeString(input, '{"body": "a e j"}\n{"body": "k"}\n')

        when:
        def p = Predictor.open(base, adapter, LABELS, 0)
        p.predict(input, tmp.resolve('out.jsonl'), 'body', 8)
        float[][] expected = p.logits(['a e j', 'k'], 8)
        p.close()
        def lines = Files.readAllLines(tmp.resolve('out.jsonl'))

        then: 'each printed number reads back as exactly the float computed'
        (0..1).every { i ->
            def printed = new ObjectMapper().readTree(lines[i]).get('logits').collect { Float.parseFloat(it.asText()) }
            printed == expected[i] as List<Float>
        }
    }

    def "a line without the text field is named with its file and line, and no output is written"() {
        given:
        def input = tmp.resolve('in.jsonl')
        Files.writeString(input, '{"text": "a"}\n{"txt": "b"}\n')

        when:
        Predictor.open(merged, null, null, 0).withCloseable { it.predict(input, tmp.resolve('out.jsonl'), 'text', 8) }

        then:
        def e = thrown(DataFileException)
        e.message == "$input:2: expected a JSON object with a string field 'text' (the text to classify), found {\"txt\": \"b\"}".toString()
        !Files.exists(tmp.resolve('out.jsonl'))
    }

    def "a model without a trained classifier is refused instead of predicting from a random head"() {
        when:
        Predictor.open(base, null, LABELS, 0)

        then:
        def e = thrown(IllegalArgumentException)
        e.message.startsWith("neither $base holds a classifier's output layer")
    }

    def "labels that do not fit the classifier are refused"() {
        when:
        Predictor.open(merged, null, ['ham', 'spam'], 0)

        then:
        def e = thrown(IllegalArgumentException)
        e.message == 'labels [ham, spam] name 2 classes, but the classifier has 3 outputs'
    }
}
