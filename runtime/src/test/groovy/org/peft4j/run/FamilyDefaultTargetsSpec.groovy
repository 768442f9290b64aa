package org.peft4j.run

import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.models.Registry
import org.peft4j.models.core.ModelFamily
import org.peft4j.nn.Module
import org.peft4j.peft.TargetMatcher
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.lora.LoraConfig
import spock.lang.Shared
import spock.lang.Specification

import java.nio.file.Path
import java.nio.file.Paths

import static org.peft4j.run.ModelInspector.Role.TARGET

/**
 * For one tiny checkpoint of every model_type the Registry serves, {@code peft4j inspect} with the
 * family's default targets, AdaLoRA's defaults and allLinear marks exactly the modules PEFT 0.21 adapts
 * for a config without target_modules and for "all-linear" on the same checkpoint
 * ({@code hf/default-targets.json}, written by {@code tools/hf-fixtures/default_targets.py}).
 */
class FamilyDefaultTargetsSpec extends Specification {

    @Shared
    Map reference = new ObjectMapper().readValue(resource('hf/default-targets.json').toFile(), Map)

    static Path resource(String name) {
        Paths.get(FamilyDefaultTargetsSpec.classLoader.getResource(name).toURI())
    }

    /** The model directory and PEFT's module lists for {@code modelType}. */
    Map row(String modelType) {
        (reference.model_types as Map)[modelType] as Map
    }

    Module load(String modelType) {
        Path dir = resource("hf/${row(modelType).fixture}/model")
        (Module) Registry.load(dir, Registry.inspectionTask(dir))
    }

    def "every model_type the Registry serves has PEFT's reference lists"() {
        expect:
        (reference.model_types as Map).keySet() as List == Registry.modelTypes()
    }

    def "inspect of #modelType with the family's default targets #defaults marks the modules PEFT adapts without target_modules"() {
        given:
        Module root = load(modelType)
        ModelFamily<?> family = Registry.family(modelType)

        when:
        def report = ModelInspector.inspect(root, modelType, LoraConfig.of(4, 8, 0, [], []).withDefaultTargets(family.loraTargets()))

        then:
        family.loraTargets() == defaults
        report.problems().isEmpty()
        report.withRole(TARGET)*.path() as Set == row(modelType).lora as Set

        cleanup:
        root?.namedParameters()?.values()?.each { it.value().close() }

        where:
        modelType     | defaults
        'bert'        | ['query', 'value']
        'roberta'     | ['query', 'value']
        'xlm-roberta' | ['query', 'value']
        'deberta-v2'  | ['query_proj', 'value_proj']
        'llama'       | ['q_proj', 'v_proj']
        'mistral'     | ['q_proj', 'v_proj']
        'qwen2'       | ['q_proj', 'v_proj']
        'gpt2'        | ['c_attn']
        'qwen3'       | ['q_proj', 'v_proj']
        'gemma3_text' | ['q_proj', 'v_proj']
    }

    def "PEFT has no default for #modelType; the family's own #defaults adapts #perLayer in every layer"() {
        given:
        Module root = load(modelType)
        ModelFamily<?> family = Registry.family(modelType)

        when:
        def report = ModelInspector.inspect(root, modelType, LoraConfig.of(4, 8, 0, [], []).withDefaultTargets(family.loraTargets()))
        def paths = report.withRole(TARGET)*.path()

        then: "PEFT refuses a config without target_modules for this model_type"
        row(modelType).lora == null
        row(modelType).lora_refusal.startsWith('Please specify `target_modules`')

        and:
        family.loraTargets() == defaults
        report.problems().isEmpty()
        paths.collect { it.replaceAll(/\.\d+\./, '.') } as Set == perLayer as Set
        paths.size() == layers * perLayer.size()
        paths.every { it in row(modelType).all_linear }

        cleanup:
        root?.namedParameters()?.values()?.each { it.value().close() }

        where:
        modelType    | defaults             | layers | perLayer
        'modernbert' | ['Wqkv']             | 3      | ['model.layers.attn.Wqkv']
        'smollm3'    | ['q_proj', 'v_proj'] | 3      | ['model.layers.self_attn.q_proj', 'model.layers.self_attn.v_proj']
    }

    def "AdaLoRA's defaults for #modelType (#defaults) adapt the modules PEFT's AdaLoRA adapts without target_modules"() {
        given:
        Module root = load(modelType)
        ModelFamily<?> family = Registry.family(modelType)
        AdaLoraConfig config = AdaLoraConfig.builder().initR(2).targetR(1).totalSteps(10).build()
                .withDefaultTargets(family.adaLoraTargets())

        when:
        List<String> targets = TargetMatcher.match(root.namedModules(), config.targeting(), 'adalora')

        then:
        family.adaLoraTargets() == defaults
        targets as Set == row(modelType).adalora as Set

        cleanup:
        root?.namedParameters()?.values()?.each { it.value().close() }

        where: "the head's own dense layer (RoBERTa's classifier.dense) is trained in full with the head, as in PEFT"
        modelType     | defaults
        'bert'        | ['query', 'value']
        'roberta'     | ['query', 'key', 'value', 'dense']
        'deberta-v2'  | ['query_proj', 'key_proj', 'value_proj', 'dense']
        'llama'       | ['q_proj', 'v_proj']
        'qwen2'       | ['q_proj', 'v_proj']
        'gpt2'        | ['c_attn']
        'qwen3'       | ['q_proj', 'v_proj']
        'gemma3_text' | ['q_proj', 'v_proj']
    }

    def "PEFT has no AdaLoRA default for #modelType; the family takes #sibling's"() {
        expect:
        row(modelType).adalora == null
        row(modelType).adalora_refusal.startsWith('Please specify `target_modules`')
        Registry.family(modelType).adaLoraTargets() == Registry.family(sibling).adaLoraTargets()

        where:
        modelType     | sibling
        'xlm-roberta' | 'roberta'
        'mistral'     | 'llama'
        'modernbert'  | 'modernbert'
        'smollm3'     | 'llama'
    }

    def "allLinear on #modelType adapts what PEFT's all-linear expands to"() {
        given:
        Module root = load(modelType)

        when:
        def report = ModelInspector.inspect(root, modelType, LoraConfig.builder().r(4).alpha(8).allLinear().build())

        then:
        report.problems().isEmpty()
        report.withRole(TARGET)*.path() as Set == row(modelType).all_linear as Set

        cleanup:
        root?.namedParameters()?.values()?.each { it.value().close() }

        where:
        modelType << Registry.modelTypes()
    }
}
