package org.peft4j.peft

import ai.djl.engine.Engine
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.io.SafeTensors
import org.peft4j.models.CausalLmLoss
import org.peft4j.models.gpt2.GPT2LMHeadModel
import org.peft4j.models.gpt2.TinyGpt2
import org.peft4j.nn.Conv1D
import org.peft4j.nn.Parameter
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.adalora.AdaLoraFiles
import org.peft4j.peft.adalora.AdaLoraInjector
import org.peft4j.peft.adalora.AdaLoraModel
import org.peft4j.peft.adalora.SvdLinear
import org.peft4j.peft.lora.AdapterFiles
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.peft.lora.LoraLinear
import org.peft4j.peft.lora.LoraModel
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.train.AdamW
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** LoRA and AdaLoRA adapters of GPT-2 on disk: PEFT's layout for Conv1D, sliced AdaLoRA, merged checkpoints. */
class Gpt2AdapterFilesSpec extends Gpt2AdapterFixture {

    def "GPT-2 with #method merged and unloaded saves as a plain checkpoint that loads with the adapter's logits"() {
        given:
        def lm = fresh()
        def adapter = inject(method, lm)
        perturb(adapter)
        def expected = logits(lm)
        def dir = tmp.resolve("merged-$method")
        Files.createDirectories(dir)

        when: 'the merged [in, out] weights written under their plain names, and read back by the GPT-2 loader'
        def plain = adapter.mergeAndUnload()
        SafeTensors.write(dir.resolve('model.safetensors'), plain.namedParameters().collectEntries { n, p -> [n, p.value()] }, [format: 'pt'])
        Files.copy(modelDir.resolve('config.json'), dir.resolve('config.json'))
        def reloaded = GPT2LMHeadModel.fromPretrained(dir)
        reloaded.train(false)

        then:
        !plain.namedParameters().keySet().any { it.contains('lora_') || it.contains('base_layer') }
        maxDiff(logits(reloaded), expected) < 1e-5

        where:
        method << ['LoRA', 'AdaLoRA']
    }

    def "LoRA adapters on GPT-2 are saved as PEFT writes them for Conv1D (fan_in_fan_out true, lora_A [r, in], lora_B [out, r]) and load to the same logits"() {
        given:
        def lm = fresh()
        def lora = (LoraModel) inject('LoRA', lm)
        perturb(lora)
        def expected = logits(lm)
        def dir = tmp.resolve('lora-adapter')

        when:
        AdapterFiles.save(lora, dir, 'CAUSAL_LM', 'tiny-gpt2')
        def json = new ObjectMapper().readTree(dir.resolve('adapter_config.json').toFile())
        def shapes = SafeTensors.header(dir.resolve('adapter_model.safetensors')).collectEntries { k, v -> [k, v.shape() as List] }
        def other = fresh()
        AdapterFiles.load(dir, other, m)

        then:
        json.get('fan_in_fan_out').asBoolean()
        shapes['base_model.model.transformer.h.0.attn.c_attn.lora_A.weight'] == [4, 8]
        shapes['base_model.model.transformer.h.0.attn.c_attn.lora_B.weight'] == [24, 4]
        shapes['base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight'] == [4, 32]
        shapes['base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight'] == [8, 4]
        maxDiff(logits(other), expected) < 1e-6
    }

    def "a PEFT LoRA file for GPT-2 (fan_in_fan_out #fif) gives the hand forward with W + (α/r)·(B A)ᵀ"() {
        given: 'what PEFT writes for target_modules ["c_attn"], r 2, lora_alpha 6; no transformer. prefix, as for the hub gpt2'
        def dir = tmp.resolve("peft-lora-$fif")
        Files.createDirectories(dir)
        Files.writeString(dir.resolve('adapter_config.json'), """{
          "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": "gpt2", "r": 2, "lora_alpha": 6,
          "lora_dropout": 0.05, "target_modules": ["c_attn"], "fan_in_fan_out": $fif, "bias": "none",
          "modules_to_save": null, "init_lora_weights": true, "inference_mode": true, "rank_pattern": {}, "alpha_pattern": {}
        }""")
        def random = new Random(5)
        Map<String, double[]> deltas = [:]
        Map tensors = [:]
        (0..<TinyGpt2.LAYERS).each { l ->
            double[] a = (0..<2 * 8).collect { random.nextGaussian() * 0.5 } as double[]       // [r, in] = [2, 8]
            double[] b = (0..<24 * 2).collect { random.nextGaussian() * 0.5 } as double[]      // [out, r] = [24, 2]
            String path = "transformer.h.${l}.attn.c_attn"
            tensors["base_model.model.${path}.lora_A.weight".toString()] = m.create(a as float[], new Shape(2, 8))
            tensors["base_model.model.${path}.lora_B.weight".toString()] = m.create(b as float[], new Shape(24, 2))
            deltas[path] = deltaInOut(d(a as float[]), d(b as float[]), [1d, 1d] as double[], 2, 8, 24, 6 / 2)
        }
        SafeTensors.write(dir.resolve('adapter_model.safetensors'), tensors, [format: 'pt'])
        def lm = fresh()

        when:
        def lora = AdapterFiles.load(dir, lm, m)

        then:
        lora.layers().keySet() == ['transformer.h.0.attn.c_attn', 'transformer.h.1.attn.c_attn'] as Set
        maxDiff(logits(lm), flat(byHandWith(deltas).logits(IDS))) < 1e-4

        when:
        lora.merge()

        then:
        maxDiff(logits(lm), flat(byHandWith(deltas).logits(IDS))) < 1e-4

        where:
        fif << [true, false]
    }

    def "an AdaLoRA adapter on GPT-2 with pruned triplets is saved sliced, as PEFT does, and loads to the hand forward"() {
        given:
        def lm = fresh()
        def ada = (AdaLoraModel) inject('AdaLoRA', lm)
        perturb(ada)
        ada.layers()['transformer.h.0.attn.c_attn'].setMask(m.create([1f, 0f, 1f, 1f, 0f, 1f] as float[]))
        ada.layers()['transformer.h.1.mlp.c_fc'].setMask(m.create([0f, 0f, 0f, 1f, 0f, 0f] as float[]))
        def expected = logits(lm)
        def dir = tmp.resolve('adalora-adapter')

        when:
        AdaLoraFiles.save(ada, dir, 'CAUSAL_LM', 'tiny-gpt2')
        def json = new ObjectMapper().readTree(dir.resolve('adapter_config.json').toFile())
        def saved = SafeTensors.read(dir.resolve('adapter_model.safetensors'), m)
        def other = fresh()
        def loaded = AdaLoraFiles.load(dir, other, m)

        then: 'k surviving triplets: lora_A [k, in], lora_E [k, 1], lora_B [out, k]'
        json.get('fan_in_fan_out').asBoolean()
        saved['base_model.model.transformer.h.0.attn.c_attn.lora_A'].shape == new Shape(4, 8)
        saved['base_model.model.transformer.h.0.attn.c_attn.lora_E'].shape == new Shape(4, 1)
        saved['base_model.model.transformer.h.0.attn.c_attn.lora_B'].shape == new Shape(24, 4)
        saved['base_model.model.transformer.h.1.mlp.c_fc.lora_B'].shape == new Shape(32, 1)
        loaded.layers()['transformer.h.0.attn.c_attn'].rank() == 4
        loaded.layers().values().every { it.fanInFanOut() }
        maxDiff(logits(other), expected) < 1e-5

        and: 'the saved factors, scaled by α / init_r = 12 / 6, give the hand forward'
        Map<String, double[]> deltas = PATHS.collectEntries { p ->
            def a = saved["base_model.model.${p}.lora_A".toString()]
            int k = a.shape.get(0)
            def l = other.module(p) as SvdLinear
            [p, deltaInOut(d(a.toFloatArray()), d(saved["base_model.model.${p}.lora_B".toString()].toFloatArray()),
                    d(saved["base_model.model.${p}.lora_E".toString()].toFloatArray()), k,
                    l.inFeatures() as int, l.outFeatures() as int, 12 / 6)]
        }
        maxDiff(logits(other), flat(byHandWith(deltas).logits(IDS))) < 1e-4

        cleanup:
        saved?.values()?.each { it.close() }
    }
}
