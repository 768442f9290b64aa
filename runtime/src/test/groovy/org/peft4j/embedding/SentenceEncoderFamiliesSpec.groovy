package org.peft4j.embedding

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.index.NDIndex
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.HfFixture
import spock.lang.Specification

/**
 * Sentence vectors of ModernBERT and DeBERTa-v3 encoders, pooled as a recipe says: AutoModel's
 * last hidden state (hf/ fixtures, Transformers 5.17) pooled at the first token or averaged over
 * real tokens, then L2-normalised.
 */
class SentenceEncoderFamiliesSpec extends Specification {

    NDManager m = Backend.get().manager()

    def "#name with #pooling pooling embeds as the reference's states pooled and normalised"() {
        given:
        HfFixture fx = HfFixture.load(name)
        SentenceEncoder encoder = SentenceEncoder.load(fx.modelDir, pooling)
        encoder.model().train(false)

        when:
        HfFixture.Difference d = null
        try (def s = new StepScope()) {
            NDArray expected = pooling == PoolingMode.CLS
                    ? fx.expected('last_hidden_state', m).get(new NDIndex(':, 0, :'))
                    : fx.expected('mean_pooled', m)
            d = HfFixture.compare(encoder.encode(fx.inputIds(m), fx.attentionMask(m), null),
                    expected.div(expected.norm([1] as int[], true)))
        } finally {
            encoder.model().namedParameters().values().each { it.value().close() }
        }

        then:
        d.within(fx.tolerance)

        where:
        name              | pooling
        'modernbert-base' | PoolingMode.MEAN
        'modernbert-base' | PoolingMode.CLS
        'deberta-v2-base' | PoolingMode.MEAN
        'deberta-v2-base' | PoolingMode.CLS
    }
}
