package org.peft4j.models

import ai.djl.ndarray.NDManager
import org.peft4j.models.core.ClassifierHead
import org.peft4j.models.core.SequenceClassifier
import org.peft4j.models.core.Task
import org.peft4j.nn.Module
import org.peft4j.peft.AdapterModel
import org.peft4j.peft.files.PeftAdapters
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.HfFixture
import spock.lang.Specification

/**
 * Sequence classifiers loaded through the registry with their Transformers head against the logits
 * of the standard class (Transformers 5.17 / PEFT 0.21, test resources hf/, see hf/CASES.md): BERT's
 * pooler, RoBERTa's and XLM-R's classification head, the decoders' score on the last real token.
 */
class HfClassifierFixturesSpec extends Specification {

    NDManager m = Backend.get().manager()

    /** The fixture's logits computed by {@code model}, padded rows and all, in one batch. */
    HfFixture.Difference difference(HfFixture fx, SequenceClassifier model, String expected = 'logits') {
        ((Module) model).train(false)
        try (def s = new StepScope()) {
            return HfFixture.compare(model.forward(fx.inputIds(m), fx.attentionMask(m), null), fx.expected(expected, m))
        }
    }

    static void free(Object model) {
        ((Module) model).namedParameters().values().each { it.value().close() }
    }

    def "#name: the registry's classifier gives #reference's logits"() {
        given:
        HfFixture fx = HfFixture.load(name)
        SequenceClassifier model = Registry.load(fx.modelDir, Task.sequenceClassification(labels, 0))

        when:
        def d = difference(fx, model)

        then: 'the checkpoint held the whole head, so nothing was drawn at random'
        ((Module) model).namedParameters().keySet().every { !it.startsWith('score') || it == 'score.weight' }
        model.architecture() == reference
        d.within(fx.tolerance)

        cleanup:
        free(model)

        where: 'rows are right- and left-padded; llama-seqcls row 0 ends with a real EOS that is also its pad token'
        name                 | labels | reference
        'bert-seqcls'        | 3      | 'BertForSequenceClassification'
        'roberta-seqcls'     | 3      | 'RobertaForSequenceClassification'
        'xlm-roberta-seqcls' | 3      | 'XLMRobertaForSequenceClassification'
        'llama-seqcls'       | 3      | 'LlamaForSequenceClassification'
        'qwen2-seqcls'       | 3      | 'Qwen2ForSequenceClassification'
        'gpt2-seqcls'        | 3      | 'GPT2ForSequenceClassification'
        'qwen3-seqcls'       | 3      | 'Qwen3ForSequenceClassification'
        'gemma3-seqcls'      | 3      | 'Gemma3TextForSequenceClassification'
        'smollm3-seqcls'     | 3      | 'SmolLM3ForSequenceClassification'
    }

    def "a RoBERTa SEQ_CLS adapter whose modules_to_save is the whole classification head gives PeftModel's logits"() {
        given:
        HfFixture fx = HfFixture.load('lora-roberta-seqcls')
        SequenceClassifier model = Registry.load(fx.modelDir, Task.sequenceClassification(3, 0))

        when:
        AdapterModel adapter = PeftAdapters.load(fx.adapterDir, (Module) model)
        def d = difference(fx, model)

        then:
        adapter.modulesToSave().keySet() == ['classifier'] as Set
        d.within(fx.tolerance)

        cleanup:
        free(model)
    }

    def "a decoder classifier without a pad token refuses a batch of 3 as Transformers does, and scores one row at its last position"() {
        given:
        HfFixture fx = HfFixture.load('refuse-seqcls-no-pad-token')
        SequenceClassifier model = Registry.load(fx.modelDir, Task.sequenceClassification(3, 0))
        ((Module) model).train(false)

        when:
        try (def s = new StepScope()) {
            model.forward(fx.inputIds(m), fx.attentionMask(m), null)
        }

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains('no pad_token_id')
        e.message.contains('3 padded rows')

        when: 'row 0 alone'
        HfFixture.Difference d
        try (def s = new StepScope()) {
            def ids = fx.inputIds(m).get('0:1')
            d = HfFixture.compare(model.forward(ids, null, null), fx.expected('single_row_logits', m))
        }

        then:
        d.within(fx.tolerance)

        cleanup:
        free(model)
    }

    def "a classifier over a checkpoint without its head draws the missing parts from the seed, the same for the same seed"() {
        given: 'a causal LM checkpoint (no score) and a bare BERT (no classifier)'
        def llama = HfFixture.load('llama-v4config-theta').modelDir
        def bert = HfFixture.load('bert-base').modelDir

        when:
        def a = Registry.load(llama, Task.sequenceClassification(2, 7))
        def b = Registry.load(llama, Task.sequenceClassification(2, 7))
        def c = Registry.load(llama, Task.sequenceClassification(2, 8))
        def mean = Registry.load(bert, Task.sequenceClassification(2, 7, ClassifierHead.MEAN))

        then:
        weights(a, 'score.weight') == weights(b, 'score.weight')
        weights(a, 'score.weight') != weights(c, 'score.weight')
        ((Module) mean).namedParameters().keySet().every { !it.contains('pooler') }
        mean.architecture() == null

        cleanup:
        [a, b, c, mean].each { free(it) }
    }

    def "a family refuses a head it does not build, naming the ones it does"() {
        when:
        Registry.load(HfFixture.load('llama-seqcls').modelDir, Task.sequenceClassification(3, 0, ClassifierHead.MEAN))

        then:
        def e = thrown(IllegalArgumentException)
        e.message == "a llama sequence classifier has no 'mean' head; valid: 'transformers'"
    }

    static List<Float> weights(Object model, String path) {
        ((Module) model).namedParameters()[path].value().toFloatArray() as List<Float>
    }
}
