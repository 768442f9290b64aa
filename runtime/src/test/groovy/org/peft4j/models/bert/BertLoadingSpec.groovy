package org.peft4j.models.bert

import org.peft4j.config.ConfigException
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.NoSuchFileException
import java.nio.file.Path

class BertLoadingSpec extends Specification {

    @TempDir
    Path tmp

    @Shared
    TinyBert tiny = new TinyBert(11)

    def "a missing tensor is named in one clear error"() {
        given:
        def dir = tiny.writeTo(tmp, [:], { it.startsWith('encoder.layer.1.output.dense') ? null : it })

        when:
        BertModel.fromPretrained(dir)

        then:
        def e = thrown(IOException)
        e.message.contains('model.safetensors')
        e.message.contains('2 parameter(s) not found in the checkpoint')
        e.message.contains('encoder.layer.1.output.dense.weight')
        e.message.contains('encoder.layer.1.output.dense.bias')
    }

    def "a tensor of the wrong shape is named with the file's shape and the expected one"() {
        given:
        def bad = ['encoder.layer.0.attention.self.query.weight': [[8, 7], new double[56]]]
        def dir = tiny.writeTo(tmp, [:], { it }, bad)

        when:
        BertModel.fromPretrained(dir)

        then:
        def e = thrown(IOException)
        e.message.contains("tensor 'encoder.layer.0.attention.self.query.weight' has shape [8, 7] in the file")
        e.message.contains('expects [8, 8]')
    }

    def "a checkpoint under an unknown prefix lists the missing parameters and the tensors nobody took"() {
        given:
        def dir = tiny.writeTo(tmp, [:], { "roberta.$it".toString() })

        when:
        BertModel.fromPretrained(dir)

        then:
        def e = thrown(IOException)
        e.message.contains("${tiny.tensors.size()} parameter(s) not found")
        e.message.contains('checkpoint tensors the model has no place for: [roberta.embeddings.')
    }

    def "a checkpoint with half a classifier is refused rather than half initialised"() {
        given:
        def dir = tiny.writeTo(tmp, [:], { it }, ['classifier.weight': [[2, 8], new double[16]]])

        when:
        BertForSequenceClassification.fromPretrained(dir, 2, 1)

        then:
        def e = thrown(IOException)
        e.message.contains('[classifier.bias]')
    }

    def "a directory without weights says which file is missing"() {
        given:
        tiny.writeTo(tmp)
        tmp.resolve('model.safetensors').toFile().delete()

        when:
        BertModel.fromPretrained(tmp)

        then:
        def e = thrown(NoSuchFileException)
        e.message.contains('model.safetensors')
        e.message.contains('config.json')   // the listing of what is there
    }

    def "config problems name the file, the field and the value, all at once"() {
        given:
        def dir = tiny.writeTo(tmp, overrides)

        when:
        BertModel.fromPretrained(dir)

        then:
        def e = thrown(ConfigException)
        e.problems().every { it.startsWith(dir.resolve('config.json').toString() + ': ') }
        expected.every { fragment -> e.message.contains(fragment) }

        where:
        overrides                                          | expected
        [hidden_size: 9]                                   | ['hidden_size = 9 is not divisible by num_attention_heads = 2']
        [hidden_act: 'relu']                               | ["hidden_act = 'relu' is not supported; valid: 'gelu'"]
        [hidden_act: 'gelu_new', hidden_dropout_prob: 1.5] | ["hidden_act = 'gelu_new'", 'hidden_dropout_prob = 1.5 must be in [0, 1)']
        [num_attention_heads: null]                        | ['num_attention_heads is missing']
        [hidden_size: '8']                                 | ['hidden_size = "8" must be an integer']
        [model_type: 'roberta']                            | ["model_type = 'roberta' is not supported"]
    }
}
