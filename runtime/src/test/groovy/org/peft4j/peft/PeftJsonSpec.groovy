package org.peft4j.peft

import com.fasterxml.jackson.databind.ObjectMapper
import com.fasterxml.jackson.databind.node.ObjectNode
import org.peft4j.config.ConfigException
import org.peft4j.peft.lora.LoraConfigJson
import org.peft4j.peft.lora.LoraInit
import org.peft4j.testing.HfFixture
import org.peft4j.testing.TinyMlp
import org.peft4j.tensor.Backend
import spock.lang.Specification

/**
 * adapter_config.json as PEFT 0.21 writes it: every field is either used, or sorted by what it does
 * to the numbers (refused by name when it changes them, reported once when it does not).
 */
class PeftJsonSpec extends Specification {

    static final ObjectMapper JSON = new ObjectMapper()

    /** PEFT 0.21's own file for a plain LoRA (hf/lora-llama-causal), every field at what PEFT wrote. */
    ObjectNode peftConfig() {
        (ObjectNode) JSON.readTree(HfFixture.load('lora-llama-causal').adapterDir.resolve('adapter_config.json').toFile())
    }

    def "PEFT's own file, with all its 40-odd fields at their defaults, reads without a note"() {
        given:
        List<String> notes = []

        when:
        def c = LoraConfigJson.read(peftConfig(), notes)

        then:
        c.r() == 4
        c.init() == LoraInit.KAIMING_UNIFORM
        notes.isEmpty()
    }

    def "#field = #value changes what the adapter computes and is refused by name"() {
        given:
        def n = peftConfig()
        n.set(field, JSON.readTree(value))

        when:
        LoraConfigJson.read(n, [])

        then:
        def e = thrown(ConfigException)
        e.message.contains("$field = ")
        e.message.contains('changes what the adapter computes')

        where:
        field                     | value
        'lora_bias'               | 'true'
        'layer_replication'       | '[[0, 1], [0, 2]]'
        'target_parameters'       | '["mlp.experts.down_proj"]'
        'trainable_token_indices' | '[1, 2]'
        'use_qalora'              | 'true'
        'alora_invocation_tokens' | '[5, 6]'
        'use_bdlora'              | '{"nblocks": 2}'
        'arrow_config'            | '{"top_k": 2}'
        'kasa_config'             | '{}'
        'monteclora_config'       | '{}'
    }

    def "#field = #value is accepted and reported once, since #why"() {
        given:
        def n = peftConfig()
        n.set(field, JSON.readTree(value))
        List<String> notes = []

        when:
        LoraConfigJson.read(n, notes)

        then:
        notes.size() == 1
        notes[0].contains(field)

        where:
        field                 | value                   | why
        'megatron_config'     | '{"tensor_model_parallel_size": 2}' | 'it chooses Megatron parallel layers for training'
        'eva_config'          | '{"rho": 2.0}'          | 'it shaped the initial values only'
        'ensure_weight_tying' | 'true'                  | 'it ties adapters of tied layers in training'
        'velora_config'       | '{}'                    | 'VeLoRA changes only the backward pass'
        'brand_new_field'     | '"something"'           | 'a newer PEFT may write fields peft4j does not know'
    }

    def "init_lora_weights = #init is read as #kind#note"() {
        given:
        def n = peftConfig()
        n.set('init_lora_weights', JSON.readTree(init))
        List<String> notes = []

        when:
        def c = LoraConfigJson.read(n, notes)

        then:
        c.init() == kind
        notes.any { it.contains('init_lora_weights') } == warned

        where:
        init                    | kind                     | warned
        'true'                  | LoraInit.KAIMING_UNIFORM | false
        'false'                 | LoraInit.KAIMING_UNIFORM | false
        '"gaussian"'            | LoraInit.GAUSSIAN        | false
        '"eva"'                 | LoraInit.KAIMING_UNIFORM | false
        '"orthogonal"'          | LoraInit.KAIMING_UNIFORM | false
        '"mica"'                | LoraInit.KAIMING_UNIFORM | false
        '"pissa"'               | LoraInit.PISSA           | true
        '"olora"'               | LoraInit.OLORA           | true
        '"pissa_niter_16"'      | LoraInit.KAIMING_UNIFORM | true
        '"corda"'               | LoraInit.KAIMING_UNIFORM | true
        '"loftq"'               | LoraInit.KAIMING_UNIFORM | true
        '"lora_ga"'             | LoraInit.KAIMING_UNIFORM | true
        note = warned ? ', with a note on the base it needs' : ''
    }

    def "task heads PEFT adds to modules_to_save count only where they exist; a name of the user's own must match"() {
        given:
        def model = new TinyMlp(Backend.get().manager())
        def modules = model.namedModules().keySet()

        expect: 'SEQ_CLS adds classifier and score; this model has classifier'
        PeftFiles.presentModulesToSave(['classifier', 'score'], 'SEQ_CLS', modules) == ['classifier']
        PeftFiles.presentModulesToSave(['classifier', 'classifier', 'score'], 'SEQ_CLS', modules) == ['classifier']

        when: 'a misspelt name of the user\'s own, in a recipe or a file'
        TargetMatcher.modulesToSave(model, PeftFiles.presentModulesToSave(['classifer', 'score'], 'SEQ_CLS', modules),
                PeftFiles.taskHeads('SEQ_CLS'), 'lora')

        then:
        def e = thrown(ConfigException)
        e.message == 'lora.modulesToSave [classifer] matches no module; top-level modules: [fc1, fc2, classifier]'
    }
}
