package org.peft4j.tensor

import ai.djl.engine.Engine
import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import org.peft4j.models.bert.BertForSequenceClassification
import org.peft4j.models.core.Pooling
import org.peft4j.models.bert.TinyBert
import org.peft4j.models.gpt2.GPT2LMHeadModel
import org.peft4j.models.gpt2.TinyGpt2
import org.peft4j.models.llama.TinyLlama
import org.peft4j.nn.Module
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.peft.lora.LoraLinear
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

class ActivationCheckpointsSpec extends Specification {

    @TempDir
    Path dir

    NDManager m = Backend.get().manager()

    NDArray ids = m.create([[3, 5, 7, 9, 11, 2], [4, 6, 8, 10, 1, 0]] as long[][])
    NDArray mask = m.create([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]] as long[][])
    NDArray labels = m.create([1, 0] as long[])

    BertForSequenceClassification bert(boolean lora) {
        new TinyBert(11).writeTo(dir.resolve('bert'))
        def model = BertForSequenceClassification.fromPretrained(dir.resolve('bert'), 2, 3)
        if (lora) {
            def adapter = LoraInjector.inject(model, LoraConfig.of(2, 4.0, 0.0, ['query', 'value'], ['classifier']), m)
            // a non-zero B, so gradients reach A and every layer below
            adapter.layers().values().each { LoraLinear l ->
                l.loraB().weight().set(m.randomNormal(0f, 0.5f, l.loraB().weight().value().shape, DataType.FLOAT32))
            }
        } else {
            model.setTrainable(true)
        }
        model
    }

    NDArray bertLoss(BertForSequenceClassification model) {
        model.forward(ids, mask, null).logSoftmax(1).gather(labels.reshape(-1, 1), 1).neg().mean()
    }

    /** Layers the last checkpointed pass of {@link #gradients} left for the tape to re-run. */
    int rerun

    /** The gradient of every trainable parameter after one backward pass, with or without a tape. */
    Map<String, float[]> gradients(Module model, Closure<NDArray> loss, boolean checkpointed, boolean verify = false,
                                   long seed = 1) {
        model.namedParameters().values().findAll { it.trainable() }.each { it.value().getGradient().muli(0) }
        Backend.get().seed(seed)
        try (def scope = new StepScope(); def gc = Engine.instance.newGradientCollector()
             def tape = checkpointed ? ActivationCheckpoints.open(verify) : null) {
            gc.backward(loss(model))
            if (tape != null) {
                rerun = tape.pending()
                assert rerun > 0
                tape.backward()
            }
        }
        model.namedParameters().findAll { k, p -> p.trainable() }
                .collectEntries { k, p -> [(k): p.value().getGradient().toFloatArray()] } as Map<String, float[]>
    }

    /** Next-token cross-entropy of a decoder's logits over {@code tokens}. */
    static Closure<NDArray> causalLmLoss(Closure<NDArray> logitsOf, NDArray tokens) {
        return { Module model ->
            logitsOf(tokens).get(':, :-1, :').logSoftmax(2)
                    .gather(tokens.get(':, 1:').expandDims(2), 2).neg().mean()
        }
    }

    static double maxDifference(Map<String, float[]> a, Map<String, float[]> b) {
        assert a.keySet() == b.keySet()
        a.keySet().collect { k -> (0..<a[k].length).collect { Math.abs(a[k][it] - b[k][it]) }.max() ?: 0 }.max()
    }

    static boolean allNonZero(Map<String, float[]> g) {
        g.values().every { float[] v -> v.any { it != 0f } }
    }

    def "without dropout, checkpointed LoRA gradients equal the plain ones in every layer"() {
        given:
        def model = bert(true)
        model.train(false)

        when:
        def plain = gradients(model, this.&bertLoss, false)
        def checkpointed = gradients(model, this.&bertLoss, true)

        then: 'both layers adapters and the head got gradients, the same ones'
        plain.keySet().count { it.contains('lora_A') } == 4
        allNonZero(plain)
        maxDifference(plain, checkpointed) < 1e-6
    }

    def "two forward passes in one step (as a contrastive objective makes) are both re-run and both counted"() {
        given:
        def model = bert(true)
        model.train(false)
        def other = m.create([[2, 4, 6, 8, 10, 12], [13, 11, 9, 7, 5, 3]] as long[][])
        def twoPasses = { BertForSequenceClassification b ->
            def x = Pooling.meanPool(b.bert().forward(ids, mask, null), mask)
            def y = Pooling.meanPool(b.bert().forward(other, null, null), null)
            x.mul(y).sum()
        }

        when:
        def plain = gradients(model, twoPasses, false)
        def checkpointed = gradients(model, twoPasses, true)

        then:
        plain.findAll { k, v -> k.contains('lora_A') }.values().every { float[] g -> g.any { it != 0f } }
        maxDifference(plain, checkpointed) < 1e-5
    }

    def "full fine-tuning: gradients also flow back into the embeddings below the first checkpointed layer"() {
        given:
        def model = bert(false)
        model.train(false)

        when:
        def plain = gradients(model, this.&bertLoss, false)
        def checkpointed = gradients(model, this.&bertLoss, true)

        then:
        plain['bert.embeddings.word_embeddings.weight'].any { it != 0f }
        plain['bert.encoder.layer.0.attention.self.key.weight'].any { it != 0f }
        maxDifference(plain, checkpointed) < 1e-6
    }

    def "with dropout, each layer's re-run draws the same masks as its first run"() {
        given:
        def model = bert(true)
        model.train(true)

        when: 'verify compares every re-run output with the first one, exactly'
        def first = gradients(model, this.&bertLoss, true, true, 5)
        def again = gradients(model, this.&bertLoss, true, true, 5)
        def otherSeed = gradients(model, this.&bertLoss, true, true, 6)

        then: 'seeded steps are reproducible, and the seed does reach the masks'
        maxDifference(first, again) == 0
        maxDifference(first, otherSeed) > 1e-4
    }

    def "a layer whose re-run differs from its first run is reported, not silently mis-differentiated"() {
        given:
        NDArray w = m.create([1f, 2f, 3f] as float[])
        w.setRequiresGradient(true)
        int calls = 0

        when: 'the "layer" returns something else on its second call'
        try (def scope = new StepScope(); def gc = Engine.instance.newGradientCollector()
             def tape = ActivationCheckpoints.open(true)) {
            def out = ActivationCheckpoints.run({ x -> calls++ == 0 ? x.mul(w) : x.mul(w).add(1f) }, m.ones(new Shape(3)), false)
            gc.backward(out.sum())
            tape.backward()
        }

        then:
        def e = thrown(IllegalStateException)
        e.message.contains('re-run differs')

        cleanup:
        w.close()
    }

    def "the last layer of a stack is a plain call even under an open tape"() {
        given:
        def x = m.create([1f, 2f] as float[])
        x.setRequiresGradient(true)
        int pending

        when:
        try (def scope = new StepScope(); def gc = Engine.instance.newGradientCollector()
             def tape = ActivationCheckpoints.open()) {
            ActivationCheckpoints.run({ it.mul(3f) }, x, true, true)
            pending = tape.pending()
        }

        then:
        pending == 0

        cleanup:
        x.close()
    }

    def "outside an open tape, or without a graph, run is a plain call"() {
        given:
        def x = m.create([1f, 2f] as float[])

        when:
        def y = ActivationCheckpoints.run({ it.mul(3f) }, x, false)

        then:
        y.toFloatArray() == [3f, 6f] as float[]
        !y.hasGradient()
    }

    def "a Llama decoder's checkpointed gradients equal the plain ones"() {
        given:
        def lm = TinyLlama.load(dir.resolve('llama'), 9)
        lm.setTrainable(true)
        lm.train(false)
        def loss = causalLmLoss({ NDArray t -> lm.forward(t, null) }, m.create([[1, 5, 9, 13, 17, 21]] as long[][]))

        when:
        def plain = gradients(lm, loss, false)
        def checkpointed = gradients(lm, loss, true)

        then:
        plain['model.layers.0.self_attn.q_proj.weight'].any { it != 0f }
        maxDifference(plain, checkpointed) < 1e-5
    }

    def "a GPT-2's checkpointed gradients equal the plain ones, embeddings included"() {
        given: 'two blocks: the first is re-run in backward, the last is not'
        def lm = GPT2LMHeadModel.fromPretrained(new TinyGpt2(5).writeTo(dir.resolve('gpt2')))
        lm.setTrainable(true)
        lm.train(false)
        def loss = causalLmLoss({ NDArray t -> lm.forward(t, null) },
                m.create([[1, 5, 9, 13, 17, 21], [2, 4, 6, 8, 10, 12]] as long[][]))

        when:
        def plain = gradients(lm, loss, false)
        def checkpointed = gradients(lm, loss, true)

        then:
        rerun == 1
        plain.find { k, v -> k.endsWith('h.0.attn.c_attn.weight') }.value.any { it != 0f }
        plain.find { k, v -> k.endsWith('wpe.weight') }.value.any { it != 0f }
        maxDifference(plain, checkpointed) < 1e-5
    }
}
