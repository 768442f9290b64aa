package org.peft4j.peft.adalora

import ai.djl.engine.Engine
import ai.djl.ndarray.types.Shape
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.io.SafeTensors
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.TinyMlp
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class AdaLoraFilesSpec extends Specification {

    def manager = Backend.get().manager()

    @TempDir
    Path dir

    static AdaLoraConfig config() {
        AdaLoraConfig.builder().initR(4).targetR(2).tinit(1).tfinal(2).deltaT(1).totalSteps(10).alpha(8)
                .targets(['fc1', 'fc2']).modulesToSave(['classifier']).build()
    }

    TinyMlp freshModel() {
        Backend.get().seed(21)
        new TinyMlp(manager)
    }

    def "save then load rebuilds the pruned ranks and gives identical outputs"() {
        given: 'a trained-looking adapter, pruned to 5 triplets by real importance scores'
        def model = freshModel()
        def ada = AdaLoraInjector.inject(model, config(), manager)
        Backend.get().seed(4)
        ada.layers().values().each { it.loraE().set(manager.randomNormal(0f, 1f, new Shape(4, 1), it.loraE().value().dataType)) }
        model.module('classifier').parameters()['bias'].set(manager.create([0.7f, -0.3f] as float[]))
        try (def scope = new StepScope(); def gc = Engine.instance.newGradientCollector()) {
            gc.backward(model.forward(manager.randomNormal(new Shape(8, 10))).square().mean())
        }
        ada.allocator().update(1)
        ada.allocator().maskTo(5)
        def x = manager.randomNormal(new Shape(3, 10))
        def expected = model.forward(x).toFloatArray()
        def ranks = ada.ranks()

        when:
        AdaLoraFiles.save(ada, dir, 'SEQ_CLS', 'tiny-mlp')
        def json = new ObjectMapper().readTree(dir.resolve('adapter_config.json').toFile())
        def header = SafeTensors.header(dir.resolve('adapter_model.safetensors'))
        def loaded = AdaLoraFiles.load(dir, freshModel(), manager)

        then: 'PEFT keys, tensors sliced to the surviving ranks, rank_pattern as boolean lists'
        json.get('peft_type').asText() == 'ADALORA'
        json.get('init_r').asInt() == 4
        json.get('rank_pattern').get('fc1.lora_E').collect { it.asBoolean() } == ada.rankPattern()['fc1.lora_E']
        header.keySet() == ['base_model.model.fc1.lora_A', 'base_model.model.fc1.lora_E', 'base_model.model.fc1.lora_B',
                            'base_model.model.fc2.lora_A', 'base_model.model.fc2.lora_E', 'base_model.model.fc2.lora_B',
                            'base_model.model.classifier.weight', 'base_model.model.classifier.bias'] as Set
        header['base_model.model.fc1.lora_A'].shape as List == [ranks['fc1'] as long, 10L]
        header['base_model.model.fc2.lora_B'].shape as List == [20L, ranks['fc2'] as long]

        and: 'the loaded layers have those ranks, scale by α / init_r, and compute the same outputs'
        loaded.layers().collectEntries { k, v -> [k, v.rank()] } == ranks
        loaded.layers().values().every { it.scaling() == 2.0 }
        maxAbsDiff(loaded.root().forward(x).toFloatArray(), expected) < 1e-6
    }

    def "a hand-written adapter in PEFT's layout loads and computes W x + P (Λ ⊙ Q x) · α / init_r"() {
        given: 'what PEFT writes for init_r 3 with the middle triplet of fc2 pruned'
        Files.writeString(dir.resolve('adapter_config.json'), '''{
          "peft_type": "ADALORA", "task_type": "SEQ_CLS", "base_model_name_or_path": "tiny",
          "init_r": 3, "target_r": 2, "tinit": 0, "tfinal": 0, "deltaT": 1, "beta1": 0.85, "beta2": 0.85,
          "orth_reg_weight": 0.5, "total_step": null, "r": 8, "lora_alpha": 6, "lora_dropout": 0.0,
          "target_modules": ["fc2"], "modules_to_save": null, "bias": "none", "fan_in_fan_out": false,
          "inference_mode": true, "rank_pattern": {"fc2.lora_E": [true, false, true]}
        }''')
        Backend.get().seed(8)
        def a = manager.randomNormal(new Shape(2, 20))
        def e = manager.create([[1.5f], [-2f]] as float[][])
        def b = manager.randomNormal(new Shape(20, 2))
        SafeTensors.write(dir.resolve('adapter_model.safetensors'),
                ['base_model.model.fc2.lora_A': a, 'base_model.model.fc2.lora_E': e, 'base_model.model.fc2.lora_B': b],
                [format: 'pt'])
        def model = freshModel()
        def fc2 = model.module('fc2')
        def h = manager.randomNormal(new Shape(4, 20))
        // α / init_r = 6 / 3 = 2
        def expected = fc2.forward(h).add(h.matMul(a.transpose()).mul(e.reshape(2)).matMul(b.transpose()).mul(2f)).toFloatArray()

        when:
        def loaded = AdaLoraFiles.load(dir, model, manager)

        then:
        loaded.layers().keySet() == ['fc2'] as Set
        loaded.layers()['fc2'].rank() == 2
        loaded.config().orthRegKind() == OrthRegKind.PEFT
        maxAbsDiff(loaded.layers()['fc2'].forward(h).toFloatArray(), expected) < 1e-5
    }

    def "a tensor whose shape disagrees with rank_pattern is refused with both shapes"() {
        given:
        Files.writeString(dir.resolve('adapter_config.json'), '''{"peft_type": "ADALORA", "init_r": 3, "target_r": 2,
          "lora_alpha": 6, "target_modules": ["fc2"], "rank_pattern": {"fc2.lora_E": [true, false, true]}}''')
        SafeTensors.write(dir.resolve('adapter_model.safetensors'),
                ['base_model.model.fc2.lora_A': manager.zeros(new Shape(3, 20)),
                 'base_model.model.fc2.lora_E': manager.zeros(new Shape(3, 1)),
                 'base_model.model.fc2.lora_B': manager.zeros(new Shape(20, 3))], [format: 'pt'])

        when:
        AdaLoraFiles.load(dir, freshModel(), manager)

        then:
        def ex = thrown(IllegalArgumentException)
        ex.message.contains("tensor 'base_model.model.fc2.lora_A' has shape (3, 20) but the layer needs (2, 20)")
    }

    def "a layer pruned to rank 0 is saved with empty tensors and loads as a layer that adds nothing"() {
        given: 'all scores tied: fc1 keeps its first three triplets, fc2 keeps none'
        def model = freshModel()
        def ada = AdaLoraInjector.inject(model, config(), manager)
        ada.layers().values().each { it.loraE().set(manager.ones(new Shape(4, 1))) }
        ada.allocator().maskTo(3)
        def x = manager.randomNormal(new Shape(3, 10))
        def expected = model.forward(x).toFloatArray()

        when:
        AdaLoraFiles.save(ada, dir, 'SEQ_CLS', 'tiny-mlp')
        def loaded = AdaLoraFiles.load(dir, freshModel(), manager)

        then:
        ada.ranks() == [fc1: 3, fc2: 0]
        loaded.layers().collectEntries { k, v -> [k, v.rank()] } == [fc1: 3, fc2: 0]
        maxAbsDiff(loaded.root().forward(x).toFloatArray(), expected) < 1e-6
    }

    def "an AUTO schedule is written as the steps it resolves to, as PEFT's AdaLoraConfig reads them, and not before T is known"() {
        given: 'tinit, tfinal and deltaT left AUTO; T comes from the run (100 steps)'
        def ada = AdaLoraInjector.inject(freshModel(), AdaLoraConfig.builder().initR(4).targetR(2)
                .targets(['fc1', 'fc2']).build(), manager)

        when: 'saved before T is known'
        AdaLoraFiles.save(ada, dir.resolve('early'), 'SEQ_CLS', 'tiny-mlp')

        then: 'refused, naming the fix, and nothing is written'
        def e = thrown(IllegalStateException)
        e.message.contains('resolveTotalSteps')
        !Files.exists(dir.resolve('early/adapter_config.json'))

        when: 'saved once the run has fixed T = 100'
        ada.resolveTotalSteps(100)
        AdaLoraFiles.save(ada, dir.resolve('resolved'), 'SEQ_CLS', 'tiny-mlp')
        def json = new ObjectMapper().readTree(dir.resolve('resolved/adapter_config.json').toFile())

        then: 'tinit 0.1·100 = 10, tfinal 0.2·100 = 20, deltaT ⌊(100 − 30) / 20⌋ = 3, total_step 100, and it loads back'
        json.get('total_step').asInt() == 100
        json.get('tinit').asInt() == 10
        json.get('tfinal').asInt() == 20
        json.get('deltaT').asInt() == 3
        AdaLoraFiles.load(dir.resolve('resolved'), freshModel(), manager).config().deltaT() == 3
    }

    static double maxAbsDiff(float[] a, float[] b) {
        (0..<a.length).collect { Math.abs(a[it] - b[it]) }.max()
    }
}
