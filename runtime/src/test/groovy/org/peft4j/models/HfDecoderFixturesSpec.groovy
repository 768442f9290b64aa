package org.peft4j.models

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import org.peft4j.models.core.CausalLm
import org.peft4j.models.core.Task
import org.peft4j.nn.Module
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.HfFixture
import spock.lang.Specification

/**
 * Decoders loaded through the registry against the numbers of the standard Transformers 5.17 class
 * (test resources hf/, see hf/CASES.md): rope scalings, Transformers-4 and -5 config fields,
 * sliding windows, Qwen2, GPT-2, Qwen3, Gemma 3 (text; 4.x and 5.x configs, soft-capping), SmolLM3.
 */
class HfDecoderFixturesSpec extends Specification {

    NDManager m = Backend.get().manager()

    def "#name gives the logits and per-row NLL of Transformers' class within its tolerance"() {
        given:
        HfFixture fx = HfFixture.load(name)
        CausalLm lm = Registry.load(fx.modelDir, Task.CAUSAL_LM)
        ((Module) lm).train(false)

        when: 'positions 0..T-1 as model(**batch) uses them, then counted over real tokens as generate does'
        double plain, counted, nll
        try (def s = new StepScope()) {
            NDArray ids = fx.inputIds(m), mask = fx.attentionMask(m)
            NDArray logits = lm.forward(ids, mask, fx.plainPositionIds(m), null)
            plain = HfFixture.compare(fx.atPositions(logits), fx.expected('logits_at', m)).max
            NDArray generateStyle = lm.forward(ids, mask, null, null)
            counted = HfFixture.compare(fx.atPositions(generateStyle, 'with_position_ids.logits_at'),
                    fx.expected('with_position_ids.logits_at', m)).max
            NDArray labels = fx.labels(m)
            List<Double> rows = (0..<ids.shape.get(0)).collect { long r ->
                CausalLmLoss.loss(logits.get(r).expandDims(0), labels.get(r).expandDims(0)).getFloat() as double
            }
            nll = HfFixture.compare(rows, fx.doubles('nll')).max
        } finally {
            ((Module) lm).namedParameters().values().each { it.value().close() }
        }

        then:
        plain <= fx.tolerance
        counted <= fx.tolerance
        nll <= fx.tolerance

        where:
        name << ['llama-rope-default', 'llama-rope-linear', 'llama-rope-dynamic', 'llama-rope-llama3', 'llama-rope-yarn',
                 'llama-v4config-theta', 'llama-v4config-llama3', 'llama-v4config-linear-type', 'llama-tied-eos-list',
                 'qwen2', 'qwen2-sliding', 'mistral-sliding', 'gpt2', 'qwen3', 'gemma3-text', 'gemma3-softcap',
                 'gemma3-v4config', 'smollm3']
    }

    def "the typed config reads eos_token_id lists and the stored dtype of either version"() {
        expect:
        Registry.config(HfFixture.load('llama-tied-eos-list').modelDir).eosTokenIds() == [2, 3]
        Registry.config(HfFixture.load('llama-rope-default').modelDir).common().dtype() == 'float32'
        Registry.config(HfFixture.load('llama-v4config-theta').modelDir).common().dtype() == 'float32'
    }
}
