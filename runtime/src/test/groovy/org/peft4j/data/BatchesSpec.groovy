package org.peft4j.data

import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import spock.lang.AutoCleanup
import spock.lang.Shared
import spock.lang.Specification

class BatchesSpec extends Specification {

    static final List<String> LABELS = ['ham', 'spam']

    @Shared
    @AutoCleanup
    Tokenizer tokenizer = MiniLm.tokenizer(16)

    @Shared
    NDManager manager

    def setupSpec() {
        manager = Backend.get().manager()
    }

    /** Example i is the word 'a' repeated (i % 5) + 1 times: [CLS] a.. [SEP], (i % 5) + 3 tokens, label i % 2. */
    private ClassificationDataset dataset(int n) {
        List<LabeledText> examples = (0..<n).collect { i -> new LabeledText((['a'] * (i % 5 + 1)).join(' '), i % 2, i + 1) }
        ClassificationDataset.of(examples, LABELS, tokenizer)
    }

    private static List<Integer> flatOrder(Batches batches) {
        (0..<batches.size()).collectMany { batches.indices(it) as List<Integer> }
    }

    def "a batch is padded to its own longest example, with attention mask 0 and the pad id on padding"() {
        given:
        ClassificationDataset ds = dataset(10)
        Batches batches = Batches.inOrder(ds, 3)

        when:
        Batch b0
        Batch b3
        List<List<Long>> ids, mask, types
        List<Long> labels
        Shape lastShape
        try (StepScope ignored = new StepScope()) {
            b0 = batches.get(0, manager)
            b3 = batches.get(3, manager)
            ids = rows(b0.inputIds().toLongArray(), 5)
            mask = rows(b0.attentionMask().toLongArray(), 5)
            types = rows(b0.tokenTypeIds().toLongArray(), 5)
            labels = b0.labels().toLongArray() as List
            lastShape = b3.inputIds().getShape()
            assert [b0.inputIds(), b0.attentionMask(), b0.tokenTypeIds(), b0.labels()]*.dataType.every { it == DataType.INT64 }
            assert b0.inputIds().getShape() == new Shape(3, 5)
            assert b0.labels().getShape() == new Shape(3)
        }

        then: "examples 0, 1, 2 have 3, 4, 5 tokens, so the batch is 5 wide"
        ids == [[101, 1037, 102, 0, 0], [101, 1037, 1037, 102, 0], [101, 1037, 1037, 1037, 102]]
        mask == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]
        types == [[0] * 5] * 3
        labels == [0, 1, 0]
        b0.tokens() == 12
        b0.size() == 3

        and: "the last batch holds the one remaining example (9: 7 tokens) and is 7 wide"
        lastShape == new Shape(1, 7)
        b3.tokens() == 7

        and: "the step's scope freed the arrays"
        b0.inputIds().isReleased()
        b3.labels().isReleased()
    }

    private static List<List<Long>> rows(long[] flat, int width) {
        (flat as List<Long>).collate(width)
    }

    def "the same seed and epoch give the same order; another epoch or seed gives another"() {
        given:
        ClassificationDataset ds = dataset(100)

        expect:
        Batches.shuffled(ds, 8, 42, 0).order() == Batches.shuffled(ds, 8, 42, 0).order()
        Batches.shuffled(ds, 8, 42, 1).order() == Batches.shuffled(ds, 8, 42, 1).order()
        Batches.shuffled(ds, 8, 42, 0).order() != Batches.shuffled(ds, 8, 42, 1).order()
        Batches.shuffled(ds, 8, 42, 0).order() != Batches.shuffled(ds, 8, 43, 0).order()
        Batches.shuffled(ds, 8, 42, 0).order() != (0..<100) as int[]
    }

    def "seed #seed, epoch #epoch gives the pinned order #expected"() {
        // Expected orders were computed outside Java, by a Python transcription of the documented
        // algorithms: java.util.Random's LCG and nextInt(bound) (from its Javadoc), the SplitMix64
        // finalizer that mixes (seed, epoch), and Durstenfeld's Fisher-Yates loop from the end.
        expect:
        Batches.shuffled(dataset(n), 4, seed, epoch).order() as List == expected

        where:
        n  | seed | epoch || expected
        10 | 42   | 0     || [0, 4, 1, 2, 7, 8, 9, 5, 3, 6]
        10 | 42   | 1     || [2, 8, 1, 3, 5, 9, 0, 4, 7, 6]
        20 | 7    | 3     || [11, 16, 8, 2, 7, 17, 0, 19, 9, 10, 1, 4, 14, 15, 6, 5, 18, 3, 13, 12]
    }

    def "every example appears exactly once per epoch (#n examples, batches of #batchSize, epoch #epoch)"() {
        given:
        Batches batches = Batches.shuffled(dataset(n), batchSize, 7, epoch)

        expect:
        batches.size() == Math.ceil(n / batchSize) as int
        flatOrder(batches).sort() == (0..<n).toList()
        flatOrder(batches) == batches.order() as List

        where:
        n   | batchSize | epoch
        1   | 1         | 0
        10  | 3         | 0
        10  | 10        | 1
        10  | 32        | 2
        257 | 16        | 3
    }

    def "the labels in each batch follow the examples the batch holds"() {
        given:
        ClassificationDataset ds = dataset(37)
        Batches batches = Batches.shuffled(ds, 8, 1, 0)

        expect:
        (0..<batches.size()).every { b ->
            try (StepScope ignored = new StepScope()) {
                batches.get(b, manager).labels().toLongArray() as List ==
                        batches.indices(b).collect { ds.label(it) as long }
            }
        }
    }

    def "evaluation batches come in file order"() {
        expect:
        Batches.inOrder(dataset(10), 4).order() as List == (0..<10).toList()
    }

    def "iterating from batch #start gives the same batches as the tail of the full epoch"() {
        given:
        Batches batches = Batches.shuffled(dataset(50), 8, 42, 2)

        when:
        List<List<Long>> full = []
        List<List<Long>> resumed = []
        try (StepScope ignored = new StepScope()) {
            batches.iterator(manager).each { full << (it.inputIds().toLongArray() as List) }
            batches.iterator(manager, start).each { resumed << (it.inputIds().toLongArray() as List) }
        }

        then:
        full.size() == 7
        resumed == full.drop(start)

        where:
        start << [0, 1, 6, 7]
    }

    def "a start batch outside the epoch is refused"() {
        when:
        Batches.shuffled(dataset(10), 4, 42, 0).iterator(manager, 4)

        then:
        IllegalArgumentException e = thrown()
        e.message.contains('outside')
    }
}
