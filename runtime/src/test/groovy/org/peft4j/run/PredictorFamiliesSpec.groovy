package org.peft4j.run

import ai.djl.ndarray.NDManager
import org.peft4j.tensor.Backend
import org.peft4j.testing.HfFixture
import org.peft4j.testing.IdTokenizer
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * predict on a Transformers classifier of every family (hf/CASES.md) computes the head Transformers
 * computes: the checkpoint's own head, used as the standard class uses it. Each fixture's model is given
 * a word-level tokenizer ({@link IdTokenizer}), so the texts tokenize to the fixture's ids.
 */
class PredictorFamiliesSpec extends Specification {

    NDManager m = Backend.get().manager()

    @TempDir
    Path tmp

    def "predict on #name (#reference) gives the logits of the standard class"() {
        given:
        def fx = HfFixture.load(name)
        Path dir = IdTokenizer.copyWith(fx, tmp.resolve(name), pad)
        def expected = fx.expected('logits', m).toFloatArray()
        int classes = fx.expected('logits', m).shape.get(1)

        when: 'the rows padded with the model\'s own padding (pad_token_id for decoders) are read in one batch'
        float[][] logits = Predictor.open(dir, null, null, 0).withCloseable { it.logits(rows.collect { IdTokenizer.text(fx, it) }, 8) }

        then:
        rows.withIndex().every { int row, int i ->
            (0..<classes).every { int k -> Math.abs(logits[i][k] - expected[row * classes + k]) <= fx.tolerance }
        }

        where: """rows 0 (no padding) and 1 (right-padded); llama-seqcls pads its fixture with 0 though pad_token_id is its
        EOS, so only its row 0 (ending with a real EOS the head skips) is a row predict pads alike"""
        name                 | reference                              | rows   | pad
        'bert-seqcls'        | 'BertForSequenceClassification'        | [0, 1] | 0
        'roberta-seqcls'     | 'RobertaForSequenceClassification'     | [0, 1] | 1
        'xlm-roberta-seqcls' | 'XLMRobertaForSequenceClassification'  | [0, 1] | 1
        'llama-seqcls'       | 'LlamaForSequenceClassification'       | [0]    | 0
        'qwen2-seqcls'       | 'Qwen2ForSequenceClassification'       | [0, 1] | 0
        'gpt2-seqcls'        | 'GPT2ForSequenceClassification'        | [0, 1] | 0
    }
}
