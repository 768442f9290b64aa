package org.peft4j.peft.adalora

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.models.core.CausalLm
import org.peft4j.models.Registry
import org.peft4j.models.core.Task
import org.peft4j.nn.Module
import org.peft4j.peft.PeftType
import org.peft4j.peft.files.PeftAdapters
import org.peft4j.peft.lora.LoraModel
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.HfFixture
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * An AdaLoRA adapter written as plain LoRA: one LoRA module per module with surviving triplets, of
 * that rank, computing PEFT's AdaLoRA update. The adapter is PEFT's own (hf/adalora-llama: init_r
 * 4, three modules pruned to rank 0); that PEFT loads the export as LoraConfig with the AdaLoRA
 * model's outputs is checked with tools/peft-checks/check_lora_export.py.
 */
class AdaLoraToLoraSpec extends Specification {

    NDManager m = Backend.get().manager()

    @TempDir
    Path tmp

    /** The logits at the fixture's chosen (row, position) pairs: real tokens only. */
    NDArray logits(CausalLm lm, HfFixture fx) {
        fx.atPositions(lm.forward(fx.inputIds(m), fx.attentionMask(m), fx.plainPositionIds(m), null))
    }

    def "each module keeps its surviving triplets as a LoRA of that rank, rank-0 modules are left out, and the outputs stay"() {
        given:
        def fx = HfFixture.load('adalora-llama')
        def ada = new ObjectMapper().readTree(fx.adapterDir.resolve('adapter_config.json').toFile())
        Map<String, Integer> surviving = [:]
        ada.get('rank_pattern').fields().each { surviving[it.key - '.lora_E'] = it.value.count { it.asBoolean() } }
        CausalLm withAdaLora = Registry.load(fx.modelDir, Task.CAUSAL_LM)
        PeftAdapters.load(fx.adapterDir, (Module) withAdaLora)
        NDArray expected = logits(withAdaLora, fx)

        when:
        def ranks = AdaLoraToLora.write(fx.adapterDir, tmp.resolve('lora'))
        def lora = new ObjectMapper().readTree(tmp.resolve('lora/adapter_config.json').toFile())
        CausalLm withLora = Registry.load(fx.modelDir, Task.CAUSAL_LM)
        def loaded = PeftAdapters.load(tmp.resolve('lora'), (Module) withLora)

        then: 'the ranks are the surviving triplets; some modules kept none'
        ranks == surviving
        surviving.values().contains(0)
        lora.get('peft_type').asText() == 'LORA'
        lora.get('target_modules').collect { it.asText() } as Set == surviving.findAll { it.value > 0 }.keySet()
        lora.get('rank_pattern').fields().collectEntries { [it.key, it.value.asInt()] } == surviving.findAll { it.value > 0 }
        lora.get('lora_alpha').asDouble() == ada.get('lora_alpha').asDouble()

        and: 'it loads as LoRA, each layer at its rank, with the AdaLoRA outputs (PEFT divides by init_r + 1e-5)'
        loaded instanceof LoraModel
        loaded.peftType() == PeftType.LORA
        loaded.layers().collectEntries { k, v -> [k, v.rank()] } == surviving.findAll { it.value > 0 }
        HfFixture.compare(logits(withLora, fx), expected).within(1e-5)
        HfFixture.compare(logits(withLora, fx), fx.expected('logits_at', m)).within(fx.tolerance)
    }

    def "a LoRA adapter is not exported, and an AdaLoRA adapter with every module at rank 0 is refused"() {
        given:
        def lora = HfFixture.load('lora-llama-causal').adapterDir
        Path allPruned = Files.createDirectories(tmp.resolve('pruned'))
        def fx = HfFixture.load('adalora-llama')
        String config = Files.readString(fx.adapterDir.resolve('adapter_config.json')).replace('true', 'false')
        Files.writeString(allPruned.resolve('adapter_config.json'), config)
        Map<String, NDArray> none = [:]
        ['model.layers.0.self_attn.q_proj'].each { p ->
            none["base_model.model.${p}.lora_A".toString()] = m.zeros(new ai.djl.ndarray.types.Shape(0, 32))
            none["base_model.model.${p}.lora_E".toString()] = m.zeros(new ai.djl.ndarray.types.Shape(0, 1))
            none["base_model.model.${p}.lora_B".toString()] = m.zeros(new ai.djl.ndarray.types.Shape(32, 0))
        }
        org.peft4j.io.SafeTensors.write(allPruned.resolve('adapter_model.safetensors'), none, [format: 'pt'])

        when:
        AdaLoraToLora.write(lora, tmp.resolve('a'))

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains("peft_type is 'LORA'; only an AdaLoRA adapter is exported to LoRA")

        when:
        AdaLoraToLora.write(allPruned, tmp.resolve('b'))

        then:
        def e2 = thrown(IllegalArgumentException)
        e2.message.contains('every module was pruned to rank 0')
        !Files.exists(tmp.resolve('b'))
    }
}
