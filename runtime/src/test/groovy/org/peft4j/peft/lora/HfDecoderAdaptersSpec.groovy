package org.peft4j.peft.lora

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import org.peft4j.models.CausalLmLoss
import org.peft4j.models.Registry
import org.peft4j.models.core.CausalLm
import org.peft4j.models.core.Task
import org.peft4j.export.MergedDecoder
import org.peft4j.nn.Module
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.HfFixture
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * LoRA adapters that PEFT 0.21 saved on Qwen3, Gemma 3 and SmolLM3 checkpoints (hf/CASES.md), against
 * the outputs PeftModel.from_pretrained computed: applied as adapter layers, folded into the weights
 * in memory, and written as a merged directory that loads as the base architecture.
 */
class HfDecoderAdaptersSpec extends Specification {

    @TempDir
    Path tmp

    NDManager m = Backend.get().manager()

    /** max |Δ| of the logits at the fixture's positions and of the per-row NLL. */
    List<Double> differences(HfFixture fx, CausalLm lm) {
        ((Module) lm).train(false)
        try (def s = new StepScope()) {
            NDArray logits = lm.forward(fx.inputIds(m), fx.attentionMask(m), fx.plainPositionIds(m), null)
            NDArray labels = fx.labels(m)
            List<Double> rows = (0..<fx.inputIdRows.size()).collect { int r ->
                CausalLmLoss.loss(logits.get(r).expandDims(0), labels.get(r).expandDims(0)).getFloat() as double
            }
            [HfFixture.compare(fx.atPositions(logits), fx.expected('logits_at', m)).max,
             HfFixture.compare(rows, fx.doubles('nll')).max]
        }
    }

    static void free(Object lm) {
        ((Module) lm)?.namedParameters()?.values()?.each { it.value().close() }
    }

    def "#name applied as LoRA layers gives PeftModel's logits and per-row NLL"() {
        given:
        HfFixture fx = HfFixture.load(name)
        Module model = (Module) Registry.load(fx.modelDir, Task.CAUSAL_LM)

        when:
        LoraModel lora = AdapterFiles.load(fx.adapterDir, model)
        def (logits, nll) = differences(fx, (CausalLm) model)

        then:
        lora.adaptedPaths().size() == adapted
        logits <= fx.tolerance
        nll <= fx.tolerance

        cleanup:
        free(model)

        where:
        name           | adapted
        'lora-qwen3'   | 8    // q/k/v/o_proj in 2 layers
        'lora-gemma3'  | 9    // q_proj, v_proj, down_proj in 3 layers
        'lora-smollm3' | 15   // q_proj, v_proj, gate/up/down_proj in 3 layers
    }

    def "#name merged into the weights, in memory and as a written directory, gives PeftModel's numbers"() {
        given:
        HfFixture fx = HfFixture.load(name)
        Path out = tmp.resolve('merged')

        when:
        CausalLm inMemory = MergedDecoder.load(fx.modelDir, fx.adapterDir)
        def memory = differences(fx, inMemory)
        MergedDecoder.merge(fx.modelDir, fx.adapterDir, out)
        CausalLm written = Registry.load(out, Task.CAUSAL_LM)
        def dir = differences(fx, written)

        then:
        memory.every { it <= fx.tolerance }
        dir.every { it <= fx.tolerance }
        Registry.modelType(out) == Registry.modelType(fx.modelDir)

        cleanup:
        free(inMemory)
        free(written)

        where:
        name << ['lora-qwen3', 'lora-gemma3', 'lora-smollm3']
    }
}
