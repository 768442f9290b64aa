package org.peft4j.data

import spock.lang.AutoCleanup
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths

class ClassificationDatasetSpec extends Specification {

    static final List<String> LABELS = ['ham', 'spam']
    /** The project's copy of the data; tests run with the runtime module as working directory. */
    static final Path SPAM = Paths.get('..', 'recipes', 'data', 'spam')

    @Shared
    @AutoCleanup
    Tokenizer tokenizer = MiniLm.tokenizer(8)

    @TempDir
    Path dir

    private Path jsonl(String... lines) {
        Path f = dir.resolve('data.jsonl')
        Files.writeString(f, lines.join('\n'))
        f
    }

    def "every example is tokenized once, and the stats count examples, truncations, tokens and labels"() {
        given:
        Path f = jsonl(
                '{"text": "hello world", "label": "ham"}',
                '{"text": "free money! free money! free money!", "label": "spam"}',
                '{"text": "the world", "label": "ham"}',
                'not json',
                '{"text": "money", "label": "spam"}')

        when:
        ClassificationDataset ds = ClassificationDataset.load(f,
                new JsonlReader('text', 'label', LABELS, OnBadLine.SKIP), 0, tokenizer)

        then:
        ds.size() == 4
        ds.ids(0) as List == [101, 7592, 2088, 102]
        ds.ids(1) as List == [101, 2489, 2769, 999, 2489, 2769, 999, 102]
        ds.typeIds(1) as List == [0] * 8
        (0..<4).collect { ds.length(it) } == [4, 8, 4, 3]
        (0..<4).collect { ds.label(it) } == [0, 1, 0, 1]
        ds.stats() == [examples: 4L, skipped: 1L, truncated: 1L, tokens: 19L, longest: 8L,
                       'label.ham': 2L, 'label.spam': 2L]
        ds.source() == f
    }

    def "a limit keeps the first examples of the file"() {
        given:
        Path f = jsonl('{"text": "a", "label": "ham"}', '{"text": "b", "label": "spam"}',
                '{"text": "c", "label": "spam"}')

        when:
        ClassificationDataset ds = ClassificationDataset.load(f,
                new JsonlReader('text', 'label', LABELS, OnBadLine.FAIL), 2, tokenizer)

        then:
        ds.size() == 2
        ds.stats()['label.spam'] == 1L
    }

    def "the training split from a DataConfig applies the limit; the validation split does not"() {
        given:
        Tokenizer t256 = MiniLm.tokenizer(256)
        DataConfig config = new DataConfig(SPAM.resolve('train.jsonl'), SPAM.resolve('valid.jsonl'), null,
                'text', 'label', 256, 500)

        when:
        ClassificationDataset train = ClassificationDataset.train(config, LABELS, t256, OnBadLine.FAIL)
        ClassificationDataset valid = ClassificationDataset.valid(config, LABELS, t256, OnBadLine.FAIL)

        then:
        train.size() == 500
        valid.size() == 300
        valid.stats()['label.spam'] == 92L
        valid.stats().longest == 256L

        cleanup:
        t256?.close()
    }

    def "the project's spam subset loads whole: 2000 / 300 / 590 examples with the README's label counts"() {
        given:
        Tokenizer t256 = MiniLm.tokenizer(256)
        JsonlReader reader = new JsonlReader('text', 'label', LABELS, OnBadLine.FAIL)

        when:
        Map<String, Map<String, Long>> stats = ['train', 'valid', 'test'].collectEntries { split ->
            [split, ClassificationDataset.load(SPAM.resolve("${split}.jsonl"), reader, 0, t256).stats()]
        }
        println "spam subset at maxLength 256: $stats"

        then:
        stats.train.subMap('examples', 'skipped', 'label.ham', 'label.spam') ==
                [examples: 2000L, skipped: 0L, 'label.ham': 1389L, 'label.spam': 611L]
        stats.valid.subMap('examples', 'label.ham', 'label.spam') == [examples: 300L, 'label.ham': 208L, 'label.spam': 92L]
        stats.test.subMap('examples', 'label.ham', 'label.spam') == [examples: 590L, 'label.ham': 421L, 'label.spam': 169L]

        cleanup:
        t256?.close()
    }

    def "a tokenizer whose maxLength differs from data.maxLength is refused"() {
        given:
        DataConfig config = new DataConfig(SPAM.resolve('train.jsonl'), null, null, 'text', 'label', 128, 0)

        when:
        ClassificationDataset.train(config, LABELS, tokenizer, OnBadLine.FAIL)

        then:
        IllegalArgumentException e = thrown()
        e.message.startsWith('tokenizer truncates at 8 tokens but data.maxLength = 128')
    }

    def "asking for a split the config does not name says which one and how to set it"() {
        given:
        DataConfig config = new DataConfig(SPAM.resolve('train.jsonl'), null, null, 'text', 'label', 8, 0)

        when:
        ClassificationDataset.test(config, LABELS, tokenizer, OnBadLine.FAIL)

        then:
        IllegalArgumentException e = thrown()
        e.message == "data.test is not set; e.g. test jsonl('data/spam/test.jsonl')"
    }

    def "batchesPerEpoch keeps the last, smaller batch"() {
        given:
        List<LabeledText> examples = (1..n).collect { new LabeledText('a', 0, it) }
        ClassificationDataset ds = ClassificationDataset.of(examples, LABELS, tokenizer)

        expect:
        ds.batchesPerEpoch(batchSize) == batches

        where:
        n  | batchSize || batches
        10 | 1         || 10
        10 | 3         || 4
        10 | 5         || 2
        10 | 10        || 1
        10 | 32        || 1
    }
}
