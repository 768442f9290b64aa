package org.peft4j.models

import ai.djl.engine.Engine
import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import org.peft4j.models.core.SequenceClassifier
import org.peft4j.models.core.Task
import org.peft4j.nn.Module
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.peft.lora.LoraLinear
import org.peft4j.tensor.ActivationCheckpoints
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.HfFixture
import spock.lang.Specification

/**
 * ModernBERT and DeBERTa-v3 classifiers train with LoRA: every adapter gets a gradient, activation
 * checkpointing gives the plain gradients (each layer re-run from its input and the parameters,
 * DeBERTa's relative-embedding table included), and with dropout on, a re-run draws its first run's masks.
 */
class EncoderFamiliesTrainingSpec extends Specification {

    NDManager m = Backend.get().manager()
    NDArray labels = m.create([0, 2, 1] as long[])

    SequenceClassifier classifier(String name, List<String> targets) {
        HfFixture fx = HfFixture.load(name)
        SequenceClassifier model = Registry.load(fx.modelDir, Task.sequenceClassification(3, 0))
        def adapter = LoraInjector.inject((Module) model, LoraConfig.of(2, 4.0, 0.1, targets, ['classifier']), m)
        // a non-zero B, so gradients reach A and every layer below
        adapter.layers().values().each { LoraLinear l ->
            l.loraB().weight().set(m.randomNormal(0f, 0.5f, l.loraB().weight().value().shape, DataType.FLOAT32))
        }
        model
    }

    Map<String, float[]> gradients(SequenceClassifier model, HfFixture fx, boolean checkpointed, boolean verify = false,
                                   long seed = 1) {
        Module root = (Module) model
        root.namedParameters().values().findAll { it.trainable() }.each { it.value().getGradient().muli(0) }
        Backend.get().seed(seed)
        try (def scope = new StepScope(); def gc = Engine.instance.newGradientCollector()
             def tape = checkpointed ? ActivationCheckpoints.open(verify) : null) {
            NDArray logits = model.forward(fx.inputIds(m), fx.attentionMask(m), null)
            gc.backward(logits.logSoftmax(1).gather(labels.reshape(-1, 1), 1).neg().mean())
            if (tape != null) {
                assert tape.pending() > 0
                tape.backward()
            }
        }
        root.namedParameters().findAll { k, p -> p.trainable() }
                .collectEntries { k, p -> [(k): p.value().getGradient().toFloatArray()] } as Map<String, float[]>
    }

    static double maxDifference(Map<String, float[]> a, Map<String, float[]> b) {
        assert a.keySet() == b.keySet()
        a.keySet().collect { k -> (0..<a[k].length).collect { Math.abs(a[k][it] - b[k][it]) }.max() ?: 0 }.max()
    }

    def "#name: without dropout, checkpointed LoRA gradients equal the plain ones, and every adapter has one"() {
        given:
        HfFixture fx = HfFixture.load(name)
        def model = classifier(name, targets)
        ((Module) model).train(false)

        when:
        def plain = gradients(model, fx, false)
        def checkpointed = gradients(model, fx, true)

        then:
        plain.keySet().count { it.endsWith('lora_A.weight') } == adapters
        plain.values().every { float[] g -> g.any { it != 0f } }
        maxDifference(plain, checkpointed) < 1e-6

        cleanup:
        ((Module) model)?.namedParameters()?.values()?.each { it.value().close() }

        where:
        name                | targets                      | adapters
        'modernbert-seqcls' | ['Wqkv', 'Wo']               | 9
        'deberta-v2-seqcls' | ['query_proj', 'value_proj'] | 4
    }

    def "#name: with dropout, seeded checkpointed steps repeat exactly and re-runs draw the first run's masks"() {
        given: 'dropout on attention, hidden states, relative embeddings and LoRA inputs'
        HfFixture fx = HfFixture.load(name)
        def model = classifier(name, targets)
        ((Module) model).train(true)

        when: 'verify compares every re-run output with the first one, exactly'
        def first = gradients(model, fx, true, true, 5)
        def again = gradients(model, fx, true, true, 5)
        def otherSeed = gradients(model, fx, true, true, 6)

        then:
        maxDifference(first, again) == 0
        maxDifference(first, otherSeed) > 1e-6

        cleanup:
        ((Module) model)?.namedParameters()?.values()?.each { it.value().close() }

        where:
        name                | targets
        'modernbert-seqcls' | ['Wqkv', 'Wo']
        'deberta-v2-seqcls' | ['query_proj', 'value_proj']
    }
}
