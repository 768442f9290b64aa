package org.peft4j.peft.lora

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.types.Shape
import org.peft4j.config.ConfigException
import org.peft4j.io.SafeTensors
import org.peft4j.tensor.Backend
import org.peft4j.testing.TinyMlp
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class AdapterFilesSpec extends Specification {

    def manager = Backend.get().manager()

    @TempDir
    Path dir

    /** The adapter_config.json text of PEFT 0.13 for r=2, alpha=4 on 'dense' with a classifier head (field order as PEFT writes it). */
    static final String PEFT_CONFIG = '''{
  "alpha_pattern": {},
  "auto_mapping": null,
  "base_model_name_or_path": "tiny",
  "bias": "none",
  "fan_in_fan_out": false,
  "inference_mode": true,
  "init_lora_weights": true,
  "layer_replication": null,
  "layers_pattern": null,
  "layers_to_transform": null,
  "loftq_config": {},
  "lora_alpha": 4,
  "lora_dropout": 0.1,
  "megatron_config": null,
  "megatron_core": "megatron.core",
  "modules_to_save": ["classifier"],
  "peft_type": "LORA",
  "r": 2,
  "rank_pattern": {},
  "revision": null,
  "target_modules": ["dense"],
  "task_type": "SEQ_CLS",
  "use_dora": false,
  "use_rslora": false
}'''

    static final double[][] W = [[1, 2, 3], [4, 5, 6]]
    static final double[] BIAS = [0.5, -0.5]
    static final double[][] A = [[0.1, 0.2, 0.3], [-0.1, 0.0, 0.4]]
    static final double[][] B = [[1.0, 2.0], [0.5, -1.0]]
    static final double[][] HEAD_W = [[0.3, -0.2], [0.1, 0.7]]
    static final double[] HEAD_B = [0.05, -0.05]

    def setup() {
        Backend.get().seed(11)
    }

    Tree handModel() {
        new Tree().put('encoder.layer.0.dense', Tree.linear(manager, 3, 2, f(W), f(BIAS)))
                  .put('classifier', Tree.linear(manager, 2, 2, [[1, 0], [0, 1]] as float[][], [0, 0] as float[]))
    }

    def "an adapter written by hand in PEFT's exact layout loads and gives the outputs computed by hand"() {
        given: 'PEFT key names, in one of the spellings PEFT versions have written'
        Files.writeString(dir.resolve('adapter_config.json'), PEFT_CONFIG)
        def p = 'base_model.model.'
        SafeTensors.write(dir.resolve('adapter_model.safetensors'), [
                (p + 'encoder.layer.0.dense.lora_A' + adapterInfix + '.weight'): manager.create(f(A)),
                (p + 'encoder.layer.0.dense.lora_B' + adapterInfix + '.weight'): manager.create(f(B)),
                (p + 'classifier' + headInfix + '.weight')                    : manager.create(f(HEAD_W)),
                (p + 'classifier' + headInfix + '.bias')                      : manager.create(f(HEAD_B)),
        ], [format: 'pt'])
        def model = handModel()
        double[] x = [1.0, -2.0, 0.5]

        when:
        def lora = AdapterFiles.load(dir, model, manager)
        lora.root().train(false)
        def y = model.chain(manager.create([f(x)] as float[][]), ['encoder.layer.0.dense', 'classifier']).toFloatArray()

        then: 'h = relu(W x + b + (4/2)·B A x), y = head(h)'
        double[] ax = (0..1).collect { i -> (0..2).sum { j -> A[i][j] * x[j] } } as double[]
        double[] h = (0..1).collect { o ->
            Math.max(0, (0..2).sum { j -> W[o][j] * x[j] } + BIAS[o] + 2.0 * (0..1).sum { k -> B[o][k] * ax[k] })
        } as double[]
        double[] expected = (0..1).collect { o -> (0..1).sum { k -> HEAD_W[o][k] * h[k] } + HEAD_B[o] } as double[]
        (0..1).every { Math.abs(y[it] - expected[it]) < 1e-4 }
        lora.config().r() == 2 && lora.config().alpha() == 4 && lora.config().dropout() == 0.1
        lora.config().targets() == ['dense'] && lora.config().modulesToSave() == ['classifier']
        lora.adaptedPaths() == ['encoder.layer.0.dense']

        where:
        adapterInfix | headInfix
        ''           | ''
        '.default'   | '.modules_to_save.default'
        ''           | '.modules_to_save'
    }

    def "save then load gives identical outputs and the same configuration: #config"() {
        given: 'a trained-looking adapter on one model'
        Backend.get().seed(3)
        def first = new TinyMlp(manager)
        def lora = LoraInjector.inject(first, config, manager)
        lora.layers().values().each { randomize(it.loraB().weight()) }
        lora.adapterParameters().findAll { k, v -> k.endsWith('bias') }.each { k, v -> randomize(v) }
        def x = manager.randomNormal(new Shape(4, 10))
        def expected = first.forward(x).toFloatArray()

        when: 'it is saved and loaded into a fresh copy of the base model'
        AdapterFiles.save(lora, dir, 'SEQ_CLS', 'tiny')
        Backend.get().seed(3)
        def second = new TinyMlp(manager)
        def loaded = AdapterFiles.load(dir, second, manager)

        then:
        second.forward(x).toFloatArray() == expected
        loaded.config() == config
        loaded.adapterParameters().keySet() == lora.adapterParameters().keySet()
        second.namedParameters().findAll { k, v -> v.trainable() }.keySet() == lora.adapterParameters().keySet()

        where:
        config << [
                LoraConfig.of(4, 8, 0.0, ['fc1', 'fc2'], ['classifier']),
                LoraConfig.builder().r(2).alpha(4).allLinear().rsLora(true).useDora(true).build(),
                LoraConfig.builder().r(4).alpha(8).targets('fc1', 'fc2').rankPattern([fc2: 2]).alphaPattern(['fc\\d': 3d])
                        .bias(LoraBias.ALL).init(LoraInit.GAUSSIAN).build(),
                LoraConfig.builder().r(3).alpha(3).targetRegex('fc\\d').exclude('fc1').bias(LoraBias.LORA_ONLY).build(),
        ]
    }

    def "an adapter from disk joins a model as a second named adapter and runs once chosen"() {
        given: 'an adapter on fc2 saved from one model'
        Backend.get().seed(3)
        def donor = new TinyMlp(manager)
        def saved = LoraInjector.inject(donor, LoraConfig.builder().r(2).alpha(4).targets('fc2').useDora(true).build(), manager)
        saved.layers().values().each { randomize(it.loraB().weight()) }
        def x = manager.randomNormal(new Shape(3, 10))
        def donorOut = donor.forward(x).toFloatArray()
        AdapterFiles.save(saved, dir, 'SEQ_CLS', 'tiny')

        and: 'a copy of the base model with its own default adapter on fc1'
        Backend.get().seed(3)
        def model = new TinyMlp(manager)
        def lora = LoraInjector.inject(model, LoraConfig.of(2, 4, 0.0, ['fc1'], []), manager)
        lora.layers().values().each { randomize(it.loraB().weight()) }
        def defaultOut = model.forward(x).toFloatArray()

        when:
        AdapterFiles.loadAdapter(lora, dir, 'loaded', manager)

        then: 'the default adapter still runs'
        lora.activeAdapter() == 'default'
        model.forward(x).toFloatArray() == defaultOut

        when:
        lora.setAdapter('loaded')

        then:
        LoraLinearSpec.maxRelDiff(model.forward(x).toFloatArray(), donorOut) < 1e-6
        lora.config().useDora()
    }

    def "an adapter with modules to save is refused as a second adapter, since the head is shared"() {
        given:
        def lora = LoraInjector.inject(new TinyMlp(manager), LoraConfig.of(2, 4, 0.0, ['fc1'], ['classifier']), manager)
        AdapterFiles.save(lora, dir, 'SEQ_CLS', 'tiny')

        when:
        AdapterFiles.loadAdapter(lora, dir, 'again', manager)

        then:
        def e = thrown(ConfigException)
        e.message.contains('modules_to_save [classifier] would overwrite the modules')
        lora.adapterNames() == ['default'] as Set
    }

    def "the config is written under PEFT's field names and values"() {
        given:
        def lora = LoraInjector.inject(new TinyMlp(manager), LoraConfig.builder().r(4).alpha(8).allLinear().rsLora(true)
                .rankPattern([fc2: 2]).alphaPattern([fc2: 16d]).bias(LoraBias.LORA_ONLY).init(LoraInit.PISSA)
                .exclude('fc1').build(), manager)

        when:
        AdapterFiles.save(lora, dir, 'SEQ_CLS', 'tiny')
        def json = new com.fasterxml.jackson.databind.ObjectMapper().readValue(dir.resolve('adapter_config.json').toFile(), Map)

        then:
        json.peft_type == 'LORA'
        json.target_modules == 'all-linear'
        json.use_rslora == true
        json.rank_pattern == [fc2: 2]
        json.alpha_pattern == [fc2: 16.0]
        json.bias == 'lora_only'
        json.init_lora_weights == 'pissa'
        json.exclude_modules == ['fc1']
        json.fan_in_fan_out == false
        json.use_dora == false
        json.layers_to_transform == null
        SafeTensors.names(dir.resolve('adapter_model.safetensors')) as Set ==
                ['base_model.model.fc2.lora_A.weight', 'base_model.model.fc2.lora_B.weight',
                 'base_model.model.fc2.base_layer.bias'] as Set
    }

    def "every option survives PEFT's JSON and back: #config"() {
        given:
        def mapper = new com.fasterxml.jackson.databind.ObjectMapper()

        expect:
        LoraConfigJson.read(mapper.readTree(mapper.writeValueAsString(LoraConfigJson.write(config, 'CAUSAL_LM', 'gpt2', mapper)))) == config

        where:
        config << [
                LoraConfig.builder().r(8).alpha(16).dropout(0.05).targets('c_attn').fanInFanOut(true).layersToTransform([0, 2])
                        .layersPattern(['h']).excludeRegex('.*h\\.1\\..*').init(LoraInit.GAUSSIAN).useDora(true).build(),
                LoraConfig.builder().allLinear().exclude('q', 'k').rsLora(true).bias(LoraBias.ALL).init(LoraInit.PISSA).build(),
                LoraConfig.builder().targetRegex('.*\\.(q|v)').rankPattern(['q': 4]).alphaPattern(['v': 2d]).bias(LoraBias.LORA_ONLY).build(),
        ]
    }

    def "a DoRA adapter is saved with PEFT's key lora_magnitude_vector"() {
        given:
        def lora = LoraInjector.inject(new TinyMlp(manager), LoraConfig.builder().r(2).alpha(2).targets('fc1').useDora(true).build(), manager)

        when:
        AdapterFiles.save(lora, dir, 'SEQ_CLS', 'tiny')

        then:
        SafeTensors.header(dir.resolve('adapter_model.safetensors')).collectEntries { k, v -> [k, v.shape() as List] } == [
                'base_model.model.fc1.lora_A.weight'          : [2, 10],
                'base_model.model.fc1.lora_B.weight'          : [20, 2],
                'base_model.model.fc1.lora_magnitude_vector'  : [20]]
    }

    def "a file that does not fit the model is refused with the tensor and both shapes, and the model is left untouched"() {
        given:
        Files.writeString(dir.resolve('adapter_config.json'), PEFT_CONFIG.replace('"r": 2', "\"r\": $r").replace('["dense"]', targets))
        def p = 'base_model.model.'
        Map<String, NDArray> tensors = [
                (p + 'encoder.layer.0.dense.lora_A.weight'): manager.zeros(new Shape(aShape as long[])),
                (p + 'encoder.layer.0.dense.lora_B.weight'): manager.zeros(new Shape(bShape as long[])),
                (p + 'classifier.weight')                  : manager.zeros(new Shape(2, 2)),
                (p + 'classifier.bias')                    : manager.zeros(new Shape(2))]
        tensors.putAll(extra.collectEntries { [(p + it): manager.zeros(new Shape(2))] })
        tensors.keySet().removeAll(missing.collect { p + it })
        SafeTensors.write(dir.resolve('adapter_model.safetensors'), tensors, [:])
        def model = handModel()
        def before = model.namedModules().keySet()

        when:
        AdapterFiles.load(dir, model, manager)

        then:
        def e = thrown(ConfigException)
        message.every { e.message.contains(it) }
        model.namedModules().keySet() == before
        !model.namedParameters().values().any { it.trainable() }

        where:
        r | targets     | aShape | bShape | extra                     | missing                                  || message
        2 | '["dense"]' | [3, 3] | [2, 2] | []                        | []                                       || ["encoder.layer.0.dense.lora_A.weight' has shape (3, 3) but the model expects (2, 3)"]
        3 | '["dense"]' | [2, 3] | [2, 2] | []                        | []                                       || ["lora_A.weight' has shape (2, 3) but the model expects (3, 3)", "lora_B.weight' has shape (2, 2) but the model expects (2, 3)"]
        2 | '["dense"]' | [2, 4] | [3, 2] | []                        | []                                       || ['expects (2, 3)', 'expects (2, 2)']
        2 | '["query"]' | [2, 3] | [2, 2] | []                        | []                                       || ['lora.target [query] matches no linear module', '[classifier, dense]']
        2 | '["dense"]' | [2, 3] | [2, 2] | ['encoder.layer.0.x.bias'] | []                                       || ["base_model.model.encoder.layer.0.x.bias' fits nothing"]
        2 | '["dense"]' | [2, 3] | [2, 2] | []                        | ['encoder.layer.0.dense.lora_B.weight']  || ["base_model.model.encoder.layer.0.dense.lora_B.weight' of shape (2, 2) is missing"]
    }

    def "a config with a value peft4j cannot honour names the field"() {
        given: 'an init PEFT does not write (every one it writes loads: see PeftAdapterFilesSpec)'
        Files.writeString(dir.resolve('adapter_config.json'), PEFT_CONFIG.replace('"init_lora_weights": true', '"init_lora_weights": "magic"'))
        SafeTensors.write(dir.resolve('adapter_model.safetensors'), [:], [:])

        when:
        AdapterFiles.load(dir, handModel(), manager)

        then:
        def e = thrown(ConfigException)
        e.message.contains('init_lora_weights = "magic" is not an init PEFT writes; valid: true, false, "gaussian"')
    }

    def "a missing directory is an IOException that names the file"() {
        when:
        AdapterFiles.load(dir.resolve('nope'), handModel(), manager)

        then:
        def e = thrown(IOException)
        e.message.contains('adapter_config.json does not exist')
    }

    void randomize(org.peft4j.nn.Parameter p) {
        p.set(manager.randomNormal(0f, 0.2f, p.value().shape, p.value().dataType))
    }

    static float[][] f(double[][] a) { a.collect { it as float[] } as float[][] }

    static float[] f(double[] a) { a as float[] }
}
