package org.peft4j.models

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.index.NDIndex
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.data.Tokenizer
import org.peft4j.models.bert.BertModel
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.HfFixture
import spock.lang.Shared
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Paths

/**
 * The embedded bge-small-en-v1.5, imported from its ONNX file, gives the ONNX model's own sentence
 * vectors: test resource bge/onnx-reference.json holds the L2-normalised [CLS] states ONNX Runtime
 * 1.20.0 computed from the same file for tools/bge-reference/sentences.json (tools/bge-reference/README.md).
 */
class BgeSmallSpec extends Specification {

    @Shared Map reference
    @Shared BertModel model
    @Shared Tokenizer tokenizer
    @Shared List<String> sentences = ['Represent this sentence for searching relevant passages: how do I reset my password?',
                                      'To reset your password, open Settings, choose Security and follow the link we email you.',
                                      'Win a FREE cruise!!! Click here now to claim your prize before midnight.',
                                      'The quarterly meeting is moved to Thursday at 3pm in room 204.',
                                      'a']
    NDManager m = Backend.get().manager()

    def setupSpec() {
        reference = new ObjectMapper().readValue(Files.readString(Paths.get(
                BgeSmallSpec.classLoader.getResource('bge/onnx-reference.json').toURI())), Map)
        def dir = EmbeddedModels.resolve('bge-small-en')
        model = BertModel.fromPretrained(dir)
        model.train(false)
        tokenizer = Tokenizer.load(dir, 512)
    }

    def cleanupSpec() {
        tokenizer?.close()
        model?.namedParameters()?.values()?.each { it.value().close() }
    }

    def "the import is a 12-layer, 384-wide BERT that records [CLS] pooling as sentence-transformers does"() {
        given:
        def dir = EmbeddedModels.resolve('bge-small-en')
        def pooling = new ObjectMapper().readValue(dir.resolve('1_Pooling/config.json').toFile(), Map)

        expect:
        model.config().numHiddenLayers() == 12
        model.config().hiddenSize() == 384
        model.config().numAttentionHeads() == 12
        pooling.pooling_mode_cls_token == true
        pooling.pooling_mode_mean_tokens == false
        Files.readString(dir.resolve('modules.json')).contains('sentence_transformers.models.Normalize')
    }

    def "the tokenizer gives the ids Hugging Face's tokenizers library gives"() {
        expect:
        sentences.collect { tokenizer.encode(it).ids().collect { it as long } } == reference.ids
    }

    def "each sentence's normalised [CLS] state is the ONNX model's, one at a time and in a right-padded batch"() {
        given:
        List<List<Long>> ids = reference.ids
        int t = ids*.size().max()
        long[][] padded = ids.collect { r -> (r + [0L] * (t - r.size())) as long[] } as long[][]
        long[][] mask = ids.collect { r -> ([1L] * r.size() + [0L] * (t - r.size())) as long[] } as long[][]
        NDArray expected = m.create(reference.cls_normalized.collect { it as float[] } as float[][])

        when:
        HfFixture.Difference single = null
        HfFixture.Difference batch = null
        try (def s = new StepScope()) {
            NDArray one = ids.collect { List<Long> r ->
                NDArray x = m.create(r as long[]).reshape(1, -1)
                cls(model.forward(x, x.onesLike(), x.zerosLike()))
            }.inject { a, b -> a.concat(b, 0) }
            single = HfFixture.compare(one, expected)
            NDArray x = m.create(padded)
            batch = HfFixture.compare(cls(model.forward(x, m.create(mask), x.zerosLike())), expected)
        }

        then: 'measured 1.9e-7 both ways: the model was exported in float32, so the two runtimes differ only in summation order'
        single.within(1e-5)
        batch.within(1e-5)
    }

    private static NDArray cls(NDArray hidden) {
        NDArray v = hidden.get(new NDIndex(':, 0, :'))
        v.div(v.norm([1] as int[], true))
    }
}
