package org.peft4j.models

import org.peft4j.data.Tokenizer
import org.peft4j.models.bert.BertModel
import org.peft4j.models.core.Pooling
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import spock.lang.Shared
import spock.lang.Specification

import java.nio.file.Path

/** The imported all-MiniLM-L6-v2 behaves like the sentence-embedding model it is. */
class MiniLmSpec extends Specification {

    @Shared Path dir
    @Shared BertModel model
    @Shared Tokenizer tokenizer

    def setupSpec() {
        dir = EmbeddedModels.resolve('minilm')
        model = BertModel.fromPretrained(dir)
        tokenizer = Tokenizer.load(dir, 128)
    }

    def cleanupSpec() {
        tokenizer?.close()
    }

    float[] embed(String text) {
        def manager = Backend.get().manager()
        def e = tokenizer.encode(text)
        try (def s = new StepScope()) {
            def ids = manager.create(e.ids().collect { it as long } as long[]).reshape(1, -1)
            def mask = ids.onesLike()
            def hidden = model.forward(ids, mask, ids.zerosLike())
            def v = Pooling.meanPool(hidden, mask)
            return v.div(v.norm()).toFloatArray()
        }
    }

    static double cosine(float[] a, float[] b) {
        (0..<a.length).sum { a[it] * b[it] } as double
    }

    def "a paraphrase pair scores a higher cosine than an unrelated pair"() {
        given:
        def a = embed(first)
        def b = embed(paraphrase)
        def c = embed(unrelated)

        expect:
        cosine(a, b) > cosine(a, c) + 0.2

        where:
        first                                  | paraphrase                                | unrelated
        'A man is playing a guitar.'           | 'Someone is playing an instrument.'       | 'The stock market fell sharply today.'
        'How do I reset my password?'          | 'I forgot my password, how can I change it?' | 'Cats sleep most of the day.'
        'Win a free cruise, click here now!'   | 'Claim your free holiday prize today!'    | 'The meeting is moved to Thursday at 3pm.'
    }

    def "the embedding of a sentence with itself has cosine 1"() {
        expect:
        Math.abs(cosine(embed('hello world'), embed('hello world')) - 1) < 1e-5
    }
}
