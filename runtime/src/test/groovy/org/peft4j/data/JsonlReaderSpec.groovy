package org.peft4j.data

import spock.lang.Specification
import spock.lang.TempDir

import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.nio.file.Path

class JsonlReaderSpec extends Specification {

    static final List<String> LABELS = ['ham', 'spam']
    static final String GOOD = '{"text": "hello", "label": "ham"}'

    @TempDir
    Path dir

    private Path file(String name, String content) {
        // ISO-8859-1 writes each char as one byte, so a row can carry a byte that is not UTF-8.
        Path f = dir.resolve(name)
        Files.write(f, content.getBytes(StandardCharsets.ISO_8859_1))
        f
    }

    private Path utf8(String name, String content) {
        Path f = dir.resolve(name)
        Files.writeString(f, content, StandardCharsets.UTF_8)
        f
    }

    private static JsonlReader reader(OnBadLine onBadLine = OnBadLine.FAIL) {
        new JsonlReader('text', 'label', LABELS, onBadLine)
    }

    def "a #problem stops reading with a message naming file:line and what was expected"() {
        given:
        Path f = file('bad.jsonl', [GOOD, GOOD, bad, GOOD].join('\n'))

        when:
        reader().read(f)

        then:
        DataFileException e = thrown()
        e.message.startsWith("$f:3: ")
        e.message.contains(expected)
        e.file() == f
        e.line() == 3

        where:
        problem               | bad                                          || expected
        'malformed JSON'      | '{"text": "a", "label": '                    || 'malformed JSON'
        'trailing garbage'    | '{"text": "a", "label": "ham"} x'            || 'malformed JSON'
        'non-object line'     | '["a", "ham"]'                               || 'expected a JSON object, found an array'
        'missing text field'  | '{"label": "ham"}'                           || "missing field 'text' (the text); the object has fields [label]"
        'missing label field' | '{"text": "a"}'                              || "missing field 'label' (the label)"
        'text of wrong type'  | '{"text": 5, "label": "ham"}'                || "field 'text' (the text) must be a string, found a number (5)"
        'label of wrong type' | '{"text": "a", "label": ["ham"]}'           || "field 'label' (the label) must be a string, found an array"
        'null label'          | '{"text": "a", "label": null}'               || 'must be a string, found null'
        'unknown label'       | '{"text": "a", "label": "eggs"}'             || "label 'eggs' is not one of the declared labels [ham, spam]"
        'non-UTF-8 byte'      | '{"text": "caf\u00e9", "label": "ham"}'      || 'byte 0xE9 at byte offset 13 of the line is not valid UTF-8'
    }

    def "an empty file is an error that names the file and says what was expected"() {
        given:
        Path f = file('empty.jsonl', content)

        when:
        reader().read(f)

        then:
        DataFileException e = thrown()
        e.message.startsWith("$f: no examples: the file is empty or has only blank lines")
        e.message.contains('expected one JSON object per line')
        e.line() == 0

        where:
        content << ['', '\n', '\n  \n\t\n']
    }

    def "a file that does not exist is named in the error"() {
        given:
        Path f = dir.resolve('nope.jsonl')

        when:
        reader().read(f)

        then:
        DataFileException e = thrown()
        e.message.startsWith("$f: no such file")
    }

    def "skip mode leaves bad lines out, counts them and keeps their problems with file:line"() {
        given:
        Path f = file('mixed.jsonl', [
                GOOD,
                '{"text": "a", "label": ',
                '{"text": "free money", "label": "spam"}',
                '{"label": "ham"}',
                '{"text": "caf\u00e9", "label": "ham"}',
                '{"text": "a", "label": "eggs"}',
                GOOD,
        ].join('\n'))

        when:
        JsonlRead read = reader(OnBadLine.SKIP).read(f)

        then:
        read.examples()*.line() == [1L, 3L, 7L]
        read.examples()*.label() == [0, 1, 0]
        read.skipped() == 4
        read.problems().size() == 4
        read.problems()[0].startsWith("$f:2: malformed JSON")
        read.problems()[1].startsWith("$f:4: missing field 'text'")
        read.problems()[2].startsWith("$f:5: byte 0xE9")
        read.problems()[3].startsWith("$f:6: label 'eggs'")
    }

    def "skip mode still fails when no line at all is usable"() {
        given:
        Path f = file('allbad.jsonl', '{"text": 1, "label": "ham"}\n{"x": 2}\n')

        when:
        reader(OnBadLine.SKIP).read(f)

        then:
        DataFileException e = thrown()
        e.message.startsWith("$f: no usable examples: all 2 non-blank lines were bad; first: $f:1: ")
    }

    def "blank lines, CRLF line ends and a byte order mark are accepted; UTF-8 text comes through intact"() {
        given:
        Path f = utf8('ok.jsonl', '\uFEFF{"text": "na\u00efve caf\u00e9 \u65e5\u672c", "label": "ham"}\r\n\r\n'
                + '   \n{"text": "WIN \u20ac\u20ac\u20ac", "label": "spam", "source": "spam-1/1"}')

        when:
        JsonlRead read = reader().read(f)

        then:
        read.examples() == [
                new LabeledText('na\u00efve caf\u00e9 \u65e5\u672c', 0, 1),
                new LabeledText('WIN \u20ac\u20ac\u20ac', 1, 4),
        ]
        read.skipped() == 0
    }

    def "a limit stops reading after that many examples, and bad lines after it are never seen"() {
        given:
        Path f = file('long.jsonl', [GOOD, GOOD, GOOD, 'not json'].join('\n'))

        expect:
        reader().read(f, 2).examples()*.line() == [1L, 2L]
    }

    def "integer labels match labels declared as their decimal text"() {
        given:
        Path f = file('sst.jsonl', '{"sentence": "good", "y": 1}\n{"sentence": "bad", "y": 0}\n')

        expect:
        new JsonlReader('sentence', 'y', ['0', '1'], OnBadLine.FAIL).read(f).examples()*.label() == [1, 0]
    }

    def "declaring no labels or a label twice is refused before any file is read"() {
        when:
        new JsonlReader('text', 'label', labels, OnBadLine.FAIL)

        then:
        IllegalArgumentException e = thrown()
        e.message.contains(expected)

        where:
        labels                 || expected
        []                     || 'no labels declared'
        ['ham', 'spam', 'ham'] || "label 'ham' is declared twice"
    }
}
