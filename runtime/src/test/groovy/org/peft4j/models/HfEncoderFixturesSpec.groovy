package org.peft4j.models

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.export.MergedExport
import org.peft4j.models.core.Pooling
import org.peft4j.models.core.SequenceClassifier
import org.peft4j.models.core.Task
import org.peft4j.models.core.TokenEncoder
import org.peft4j.nn.Module
import org.peft4j.peft.AdapterModel
import org.peft4j.peft.files.PeftAdapters
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.HfFixture
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * ModernBERT and DeBERTa-v3 loaded through the registry against the numbers of the standard
 * Transformers 5.17 classes and PEFT 0.21 (test resources hf/, see hf/CASES.md): AutoModel's
 * last_hidden_state, AutoModelForSequenceClassification's logits, and PeftModel's logits with a LoRA
 * adapter saved by PEFT. Rows 1 and 2 of every case are right- and left-padded.
 */
class HfEncoderFixturesSpec extends Specification {

    NDManager m = Backend.get().manager()

    @TempDir
    Path tmp

    private static SequenceClassifier classifier(HfFixture fx) {
        SequenceClassifier classifier = Registry.load(fx.modelDir, Task.sequenceClassification(3, 0))
        ((Module) classifier).train(false)
        classifier
    }

    /** The classifier's logits on the fixture's rows against the reference's; the model is released after. */
    private HfFixture.Difference logitsDifference(SequenceClassifier classifier, HfFixture fx) {
        try (def s = new StepScope()) {
            return HfFixture.compare(classifier.forward(fx.inputIds(m), fx.attentionMask(m), null),
                    fx.expected('logits', m))
        } finally {
            release(classifier)
        }
    }

    private static void release(Object model) {
        ((Module) model).namedParameters().values().each { it.value().close() }
    }

    def "#name: the encoder's last hidden state and its masked mean are AutoModel's"() {
        given:
        HfFixture fx = HfFixture.load(name)
        TokenEncoder encoder = Registry.load(fx.modelDir, Task.ENCODER)
        ((Module) encoder).train(false)

        when:
        HfFixture.Difference hidden = null
        HfFixture.Difference pooled = null
        try (def s = new StepScope()) {
            NDArray mask = fx.attentionMask(m)
            NDArray h = encoder.forward(fx.inputIds(m), mask, null)
            hidden = HfFixture.compare(h, fx.expected('last_hidden_state', m))
            pooled = HfFixture.compare(Pooling.meanPool(h, mask), fx.expected('mean_pooled', m))
        } finally {
            release(encoder)
        }

        then:
        encoder.class.simpleName == type
        hidden.within(fx.tolerance)
        pooled.within(fx.tolerance)

        where:
        name              | type
        'modernbert-base' | 'ModernBertModel'
        'deberta-v2-base' | 'DebertaV2Model'
    }

    def "#name: the classifier's logits are AutoModelForSequenceClassification's"() {
        given:
        HfFixture fx = HfFixture.load(name)
        SequenceClassifier classifier = classifier(fx)

        when:
        HfFixture.Difference logits = logitsDifference(classifier, fx)

        then:
        classifier.class.simpleName == type
        logits.within(fx.tolerance)

        where:
        name                    | type
        'modernbert-seqcls'     | 'ModernBertForSequenceClassification'
        'modernbert-seqcls-cls' | 'ModernBertForSequenceClassification'
        'deberta-v2-seqcls'     | 'DebertaV2ForSequenceClassification'
    }

    def "#name: a LoRA adapter saved by PEFT gives PeftModel's logits"() {
        given:
        HfFixture fx = HfFixture.load(name)
        SequenceClassifier classifier = classifier(fx)

        when: "PEFT's SEQ_CLS config names modules_to_save [classifier, score]; these models have a classifier"
        AdapterModel lora = PeftAdapters.load(fx.adapterDir, (Module) classifier)
        HfFixture.Difference logits = logitsDifference(classifier, fx)

        then:
        lora.adaptedPaths() as Set == adapted as Set
        lora.modulesToSave().keySet() == ['classifier'] as Set
        logits.within(fx.tolerance)

        where:
        name                     | adapted
        'lora-modernbert-seqcls' | (0..2).collectMany { ["model.layers.${it}.attn.Wqkv", "model.layers.${it}.attn.Wo"]*.toString() }
        'lora-deberta-v2-seqcls' | (0..1).collectMany { l -> ['query_proj', 'value_proj'].collect { "deberta.encoder.layer.${l}.attention.self.${it}".toString() } }
    }

    def "#name: merged into a complete directory by peft4j merge, the classifier gives PeftModel's logits"() {
        given:
        HfFixture fx = HfFixture.load(name)
        Path out = tmp.resolve(name)

        when:
        MergedExport.merge(fx.modelDir, fx.adapterDir, out, null)
        SequenceClassifier merged = Registry.load(out, Task.sequenceClassification(3, 0))
        ((Module) merged).train(false)
        HfFixture.Difference logits = logitsDifference(merged, fx)

        then: "Transformers' own class is named, so AutoModelForSequenceClassification loads the head"
        new ObjectMapper().readTree(out.resolve('config.json').toFile()).path('architectures')[0].asText() == type
        logits.within(fx.tolerance)

        where:
        name                     | type
        'lora-modernbert-seqcls' | 'ModernBertForSequenceClassification'
        'lora-deberta-v2-seqcls' | 'DebertaV2ForSequenceClassification'
    }
}
