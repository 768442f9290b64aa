package org.peft4j.io

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import org.peft4j.models.core.CausalLm
import org.peft4j.models.CausalLmLoss
import org.peft4j.models.Registry
import org.peft4j.models.core.Task
import org.peft4j.models.bert.BertModel
import org.peft4j.nn.Module
import org.peft4j.peft.lora.AdapterFiles
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.HfFixture
import spock.lang.Specification

/**
 * peft4j against the Hugging Face interop fixtures (hf/CASES.md): the numbers of the standard
 * Transformers / PEFT classes, recorded by tools/hf-fixtures.
 */
class HfFixturesSpec extends Specification {

    NDManager m = Backend.get().manager()

    def "BertModel's last hidden state equals Transformers' on the bert-base fixture"() {
        given:
        def fx = HfFixture.load('bert-base')
        def bert = BertModel.fromPretrained(fx.modelDir)

        when:
        HfFixture.Difference d
        try (def s = new StepScope()) {
            d = HfFixture.compare(bert.forward(fx.inputIds(m), fx.attentionMask(m), null),
                    fx.expected('last_hidden_state', m))
        }

        then:
        d.within(fx.tolerance)
    }

    def "#name: the logits at the chosen positions and the per-row NLL equal the Transformers causal LM's"() {
        given:
        def fx = HfFixture.load(name)
        CausalLm lm = Registry.load(fx.modelDir, Task.CAUSAL_LM)
        if (fx.adapterDir != null) {
            AdapterFiles.load(fx.adapterDir, (Module) lm)
        }

        when: 'positions 0..T-1 in every row, as model(**batch) uses them'
        HfFixture.Difference logits
        HfFixture.Difference nll
        try (def s = new StepScope()) {
            NDArray out = lm.forward(fx.inputIds(m), fx.attentionMask(m), fx.plainPositionIds(m), null)
            logits = HfFixture.compare(fx.atPositions(out), fx.expected('logits_at', m))
            def labels = fx.labels(m)
            def rows = (0..<fx.inputIdRows.size()).collect { int b ->
                CausalLmLoss.loss(out.get("$b:${b + 1}"), labels.get("$b:${b + 1}")).getFloat() as double
            }
            nll = HfFixture.compare(rows, fx.doubles('nll'))
        }

        then:
        logits.within(fx.tolerance)
        nll.within(fx.tolerance)

        where: 'the cases peft4j reads today; hf/CASES.md lists the rest'
        name << ['llama-v4config-theta', 'llama-v4config-llama3', 'llama-tied-eos-list', 'gpt2',
                 'lora-llama-causal', 'lora-llama-rslora', 'lora-llama-dora', 'lora-llama-pissa-converted']
    }
}
