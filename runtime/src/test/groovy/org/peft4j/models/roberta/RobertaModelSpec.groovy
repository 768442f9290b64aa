package org.peft4j.models.roberta

import org.peft4j.models.core.BertEmbeddings
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.Shape
import org.peft4j.config.ConfigException
import org.peft4j.embedding.PoolingMode
import org.peft4j.embedding.SentenceEncoder
import org.peft4j.models.bert.TinyBert
import org.peft4j.tensor.Backend
import spock.lang.AutoCleanup
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * A tiny random RoBERTa written in Hugging Face's layout (roberta.-prefixed names, an lm_head,
 * pad_token_id 1, model_type "roberta"), checked against the double-precision BERT reference of
 * the model specs with the position table shifted by the padding offset pad + 1.
 */
class RobertaModelSpec extends Specification {

    static final int PAD = 1

    @TempDir
    Path tmp

    @AutoCleanup
    NDManager m = Backend.get().manager().newSubManager()

    TinyBert tiny = new TinyBert(23)

    Path writeRoberta(String modelType = 'roberta') {
        def extra = ['lm_head.bias'              : [[TinyBert.VOCAB], new double[TinyBert.VOCAB]],
                     'embeddings.position_ids': [[1, TinyBert.MAX_POS], new double[TinyBert.MAX_POS]]]
        tiny.writeTo(tmp, [architectures: ['RobertaForMaskedLM'], model_type: modelType, pad_token_id: PAD,
                           type_vocab_size: TinyBert.TYPES, layer_norm_eps: TinyBert.EPS],
                { it.startsWith('lm_head.') ? it : "roberta.$it".toString() }, extra)
    }

    /** The BERT reference whose position row i is RoBERTa's row i + pad + 1: position ids 0.. map to pad + 1.. */
    TinyBert shiftedReference() {
        def ref = new TinyBert(23)
        double[] pos = ref.t('embeddings.position_embeddings.weight')
        double[] shifted = new double[pos.length]
        int h = TinyBert.H
        System.arraycopy(pos, (PAD + 1) * h, shifted, 0, pos.length - (PAD + 1) * h)
        ref.tensors['embeddings.position_embeddings.weight'] = [[TinyBert.MAX_POS, h], shifted]
        ref
    }

    def "position ids count real tokens from pad + 1 and put padding at pad, wherever the padding is"() {
        given:
        def model = RobertaModel.fromPretrained(writeRoberta())
        def ids = m.create([[0, 5, 6, 2, 1, 1], [1, 1, 0, 7, 8, 2]] as long[][])

        expect:
        ((BertEmbeddings) model.child('embeddings')).positionIds(ids).toLongArray() ==
                [2, 3, 4, 5, 1, 1, 1, 1, 2, 3, 4, 5] as long[]
    }

    def "an HF RoBERTa directory loads unmodified and its last hidden state matches the offset-position reference"() {
        given:
        def model = RobertaModel.fromPretrained(writeRoberta(modelType))
        def ref = shiftedReference()
        List<Integer> seq = [0, 5, 9, 13, 2]

        when:
        def out = model.forward(m.create([seq] as long[][]), null, null).toFloatArray()
        double[][] expected = ref.forward(seq, [0] * seq.size(), [1] * seq.size())

        then:
        (0..<seq.size()).every { i -> (0..<TinyBert.H).every { d -> Math.abs(out[i * TinyBert.H + d] - expected[i][d]) < 1e-4 } }

        where:
        modelType << ['roberta', 'xlm-roberta']
    }

    def "left and right padding give the real tokens the same states, because positions skip the padding"() {
        given:
        def model = RobertaModel.fromPretrained(writeRoberta())
        def right = m.create([[0, 5, 9, 2, 1, 1]] as long[][])
        def left = m.create([[1, 1, 0, 5, 9, 2]] as long[][])

        when:
        def r = model.forward(right, m.create([[1, 1, 1, 1, 0, 0]] as long[][]), null).get('0, 0:4, :')
        def l = model.forward(left, m.create([[0, 0, 1, 1, 1, 1]] as long[][]), null).get('0, 2:6, :')

        then:
        r.sub(l).abs().max().getFloat() < 1e-5
    }

    def "the sentence encoder picks RoBERTa from model_type and limits inputs to the positions after the offset"() {
        when:
        def enc = SentenceEncoder.load(writeRoberta(), PoolingMode.MEAN)

        then:
        enc.model() instanceof RobertaModel
        enc.maxLength() == TinyBert.MAX_POS - PAD - 1
        enc.encode(m.create([[0, 5, 2]] as long[][]), null, null).getShape() == new Shape(1, TinyBert.H)

        when:
        enc.encode(m.zeros(new Shape(1, TinyBert.MAX_POS - 1), ai.djl.ndarray.types.DataType.INT64), null, null)

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains('exceeds 14')
    }

    def "a config of another family is refused with the valid model types"() {
        given:
        tiny.writeTo(tmp, [model_type: 'gpt2'])

        when:
        RobertaModel.fromPretrained(tmp)

        then:
        def e = thrown(ConfigException)
        e.message.contains("model_type = 'gpt2' is not supported by this loader; valid: 'roberta', 'xlm-roberta'")
    }
}
