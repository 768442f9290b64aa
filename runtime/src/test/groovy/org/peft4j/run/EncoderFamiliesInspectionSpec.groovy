package org.peft4j.run

import org.peft4j.io.SafeTensors
import org.peft4j.models.Registry
import org.peft4j.models.core.Task
import org.peft4j.nn.Module
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.testing.HfFixture
import spock.lang.Specification

import static org.peft4j.run.ModelInspector.Role.SAVED
import static org.peft4j.run.ModelInspector.Role.TARGET

/**
 * {@code peft4j inspect} of ModernBERT and DeBERTa-v3 classifiers shows PEFT's module names: PEFT's
 * target_modules mark the modules PEFT adapted (the fixture adapters' tensors say which), the family's
 * default targets resolve, and allLinear adapts the modules PEFT's "all-linear" expands to.
 */
class EncoderFamiliesInspectionSpec extends Specification {

    /** The module paths PEFT wrote LoRA tensors for. */
    static Set<String> peftAdapted(HfFixture fx) {
        SafeTensors.names(fx.adapterDir.resolve('adapter_model.safetensors'))
                .findAll { it.endsWith('.lora_A.weight') }
                .collect { it.substring('base_model.model.'.length(), it.length() - '.lora_A.weight'.length()) } as Set
    }

    def "inspect of #model marks exactly the modules PEFT adapted for target_modules #targets"() {
        given:
        HfFixture fx = HfFixture.load(adapter)

        when:
        def report = ModelInspector.inspect(fx.modelDir.toString(), LoraConfig.of(4, 8, 0, targets, ['classifier']))

        then:
        report.problems().isEmpty()
        report.withRole(TARGET)*.path() as Set == peftAdapted(fx)
        report.withRole(SAVED)*.path() == ['classifier']

        where:
        model               | adapter                  | targets
        'modernbert-seqcls' | 'lora-modernbert-seqcls' | ['Wqkv', 'attn.Wo']
        'deberta-v2-seqcls' | 'lora-deberta-v2-seqcls' | ['query_proj', 'value_proj']
    }

    def "the #family family's default targets are module names of its models: #defaults"() {
        given:
        HfFixture fx = HfFixture.load(model)

        when:
        def report = ModelInspector.inspect(fx.modelDir.toString(),
                LoraConfig.of(4, 8, 0, Registry.familyOf(fx.modelDir).loraTargets(), []))

        then:
        Registry.familyOf(fx.modelDir).loraTargets() == defaults
        report.problems().isEmpty()
        report.withRole(TARGET)*.path() == paths

        where:
        family       | model               | defaults                     | paths
        'modernbert' | 'modernbert-seqcls' | ['Wqkv']                     | (0..2).collect { "model.layers.${it}.attn.Wqkv".toString() }
        'deberta-v2' | 'deberta-v2-seqcls' | ['query_proj', 'value_proj'] | (0..1).collectMany { l -> ['query_proj', 'value_proj'].collect { "deberta.encoder.layer.${l}.attention.self.${it}".toString() } }
    }

    def "allLinear on #model (#task) adapts what PEFT's all-linear expands to: #expected"() {
        given: "PEFT 0.21's expansion, printed by get_peft_model(..., LoraConfig(target_modules='all-linear')) on the fixture models"
        HfFixture fx = HfFixture.load(model)
        Module root = (Module) Registry.load(fx.modelDir, task)

        when:
        List<String> targets = LoraInjector.matchTargets(root.namedModules(), LoraConfig.builder().r(2).allLinear().build())

        then:
        targets.size() == count
        targets.collect { it.split(/\./).findAll { !it.isInteger() }.join('.') } as Set == expected as Set

        cleanup:
        root?.namedParameters()?.values()?.each { it.value().close() }

        where:
        model               | task                                | count | expected
        'modernbert-seqcls' | Task.sequenceClassification(3, 0)   | 13    | ['head.dense', 'model.layers.attn.Wo', 'model.layers.attn.Wqkv', 'model.layers.mlp.Wi', 'model.layers.mlp.Wo']
        'modernbert-base'   | Task.ENCODER                        | 12    | ['layers.attn.Wo', 'layers.attn.Wqkv', 'layers.mlp.Wi', 'layers.mlp.Wo']
        'deberta-v2-seqcls' | Task.sequenceClassification(3, 0)   | 13    | ['deberta.encoder.layer.attention.output.dense', 'deberta.encoder.layer.attention.self.key_proj', 'deberta.encoder.layer.attention.self.query_proj', 'deberta.encoder.layer.attention.self.value_proj', 'deberta.encoder.layer.intermediate.dense', 'deberta.encoder.layer.output.dense', 'pooler.dense']
        'deberta-v2-base'   | Task.ENCODER                        | 12    | ['encoder.layer.attention.output.dense', 'encoder.layer.attention.self.key_proj', 'encoder.layer.attention.self.query_proj', 'encoder.layer.attention.self.value_proj', 'encoder.layer.intermediate.dense', 'encoder.layer.output.dense']
    }
}
