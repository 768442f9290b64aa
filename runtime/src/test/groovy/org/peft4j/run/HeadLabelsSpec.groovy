package org.peft4j.run

import com.fasterxml.jackson.databind.ObjectMapper
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class HeadLabelsSpec extends Specification {

    @TempDir
    Path dir

    def "class names are written with Transformers' field names and shapes and read back in class-id order"() {
        when:
        HeadLabels.write(dir, ['ham', 'spam', 'phish'])
        def json = new ObjectMapper().readTree(dir.resolve('head_config.json').toFile())

        then: 'the fields of a config.json: ids as string keys, label2id values as integers'
        json.fieldNames().toList() == ['num_labels', 'id2label', 'label2id']
        json.num_labels.intValue() == 3
        json.id2label.fields().collect { [it.key, it.value.textValue()] } == [['0', 'ham'], ['1', 'spam'], ['2', 'phish']]
        json.label2id.fields().collect { [it.key, it.value.intValue()] } == [['ham', 0], ['spam', 1], ['phish', 2]]

        and:
        HeadLabels.read(dir) == ['ham', 'spam', 'phish']
    }

    def "a directory without the file has no saved labels"() {
        expect:
        HeadLabels.read(dir) == null
    }

    def "a file that names the classes inconsistently is refused with what is wrong (#fault)"() {
        given:
        Files.writeString(dir.resolve('head_config.json'), text)

        when:
        HeadLabels.read(dir)

        then:
        IOException e = thrown()
        e.message.startsWith(dir.resolve('head_config.json').toString())
        e.message.contains(says)

        where:
        fault                   | text                                                                     | says
        'ids not from 0'        | '{"id2label": {"1": "ham", "2": "spam"}}'                                | 'no name for class 0'
        'label2id disagrees'    | '{"id2label": {"0": "ham", "1": "spam"}, "label2id": {"ham": 1, "spam": 0}}' | "does not map 'ham' to 0"
        'num_labels disagrees'  | '{"num_labels": 3, "id2label": {"0": "ham", "1": "spam"}}'               | 'num_labels = 3 but id2label names 2'
        'no id2label'           | '{"num_labels": 2}'                                                      | 'no id2label object'
        'not JSON'              | '{"id2label": '                                                          | 'is not valid JSON'
    }
}
