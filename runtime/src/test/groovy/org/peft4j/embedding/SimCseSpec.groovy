package org.peft4j.embedding

import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.Shape
import org.peft4j.data.Batch
import org.peft4j.data.PairBatches
import org.peft4j.models.bert.BertModel
import org.peft4j.tensor.Backend
import spock.lang.AutoCleanup
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

class SimCseSpec extends Specification {

    @TempDir
    Path tmp

    @AutoCleanup
    NDManager m = Backend.get().manager().newSubManager()

    SentenceEncoder encoder(Map overrides = [:], PoolingMode pooling = PoolingMode.MEAN) {
        SentenceEncoder.of(BertModel.fromPretrained(TinyEncoderDir.write(tmp, 5, overrides)), pooling)
    }

    def ids = { m.create([[2, 4, 5, 6, 3], [2, 7, 8, 3, 0]] as long[][]) }
    def mask = { m.create([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]] as long[][]) }

    def "sentence vectors have unit length, with mean and with CLS pooling"() {
        given:
        def enc = encoder([:], pooling)

        when:
        def v = enc.encode(ids(), mask(), null)

        then:
        v.getShape() == new Shape(2, 8)
        v.norm([1] as int[]).toFloatArray().every { Math.abs(it - 1) < 1e-5 }

        where:
        pooling << [PoolingMode.MEAN, PoolingMode.CLS]
    }

    def "SimCSE's two views of the same sentences differ only when dropout is on"() {
        given:
        def enc = encoder()

        when: 'training mode, dropout 0.1 in the config'
        enc.model().train(true)
        def a = enc.encode(ids(), mask(), null)
        def b = enc.encode(ids(), mask(), null)

        then:
        a.sub(b).abs().max().getFloat() > 1e-4

        when: 'evaluation mode'
        enc.model().train(false)
        def c = enc.encode(ids(), mask(), null)
        def d = enc.encode(ids(), mask(), null)

        then:
        c.sub(d).abs().max().getFloat() == 0
    }

    def "with dropout probabilities of zero the views agree even in training mode, and the SimCSE loss is that of identical views"() {
        given:
        def enc = encoder([hidden_dropout_prob: 0.0, attention_probs_dropout_prob: 0.0])
        enc.model().train(true)
        def batch = new Batch(ids(), mask(), ids().zerosLike(), m.arange(0, 2, 1, ai.djl.ndarray.types.DataType.INT64), 9)

        when:
        double loss = new EmbeddingObjective(enc, LossKind.SIMCSE, 0.05).loss(batch).getFloat()
        def v = enc.encode(ids(), mask(), null)

        then:
        Math.abs(loss - InfoNceLoss.loss(v, v, null, 0.05).getFloat()) < 1e-5
    }

    def "unpacking a pair batch cuts each column to its own longest row"() {
        given: 'anchors of 3 tokens packed with positives of 5'
        def packed = new Batch(
                m.create([[2, 4, 3, 0, 0], [2, 5, 6, 3, 0], [2, 7, 8, 9, 3], [2, 10, 3, 0, 0]] as long[][]),
                m.create([[1, 1, 1, 0, 0], [1, 1, 1, 1, 0], [1, 1, 1, 1, 1], [1, 1, 1, 0, 0]] as long[][]),
                m.zeros(new Shape(4, 5), ai.djl.ndarray.types.DataType.INT64),
                m.arange(0, 2, 1, ai.djl.ndarray.types.DataType.INT64), 15)

        when:
        def cols = PairBatches.unpack(packed)

        then:
        cols.size() == 2
        cols[0].inputIds().getShape() == new Shape(2, 4)
        cols[1].inputIds().getShape() == new Shape(2, 5)
        cols[1].inputIds().toLongArray() == [2, 7, 8, 9, 3, 2, 10, 3, 0, 0] as long[]
    }
}
