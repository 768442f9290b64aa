package org.peft4j.models

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.config.ConfigException
import org.peft4j.io.SafeTensors
import org.peft4j.models.bert.TinyBert
import org.peft4j.models.core.CausalLm
import org.peft4j.models.core.KvCache
import org.peft4j.models.core.Task
import org.peft4j.models.gpt2.TinyGpt2
import org.peft4j.models.llama.TinyLlama
import org.peft4j.nn.Module
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.FixtureModels
import org.peft4j.testing.HfFixture
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class RegistrySpec extends Specification {

    @TempDir
    Path tmp

    NDManager m = Backend.get().manager()

    def "the registry names every family's model types, and what each builds"() {
        expect:
        Registry.modelTypes() == ['bert', 'roberta', 'xlm-roberta', 'modernbert', 'deberta-v2', 'llama', 'mistral',
                                  'qwen2', 'gpt2', 'qwen3', 'gemma3_text', 'smollm3']
        Registry.modelTypes(Task.Kind.CAUSAL_LM) == ['llama', 'mistral', 'qwen2', 'gpt2', 'qwen3', 'gemma3_text', 'smollm3']
        Registry.modelTypes(Task.Kind.ENCODER) == ['bert', 'roberta', 'xlm-roberta', 'modernbert', 'deberta-v2']
        Registry.modelTypes(Task.Kind.SEQUENCE_CLASSIFICATION) == ['bert', 'roberta', 'xlm-roberta', 'modernbert', 'deberta-v2',
                                                                  'llama', 'mistral', 'qwen2', 'gpt2', 'qwen3', 'gemma3_text', 'smollm3']
        Registry.family('mistral').name() == 'llama'
        Registry.family('qwen2').name() == 'qwen2'
        Registry.family('gemma3_text').name() == 'gemma3'
    }

    def "an unsupported model_type is refused once, naming the file and every supported type"() {
        given:
        Files.writeString(tmp.resolve('config.json'), '{"model_type": "falcon"}')

        when:
        Registry.load(tmp, Task.CAUSAL_LM)

        then:
        def e = thrown(IllegalArgumentException)
        e.message == tmp.resolve('config.json').toString() + ": model_type = 'falcon' is not supported; supported:" +
                ' bert, roberta, xlm-roberta, modernbert, deberta-v2, llama, mistral, qwen2, gpt2, qwen3, gemma3_text, smollm3'
    }

    def "a family asked for a task it does not build says which model types do"() {
        given:
        def dir = new TinyBert(1).writeTo(tmp, [model_type: 'roberta', pad_token_id: 1])

        when:
        Registry.load(dir, Task.CAUSAL_LM)

        then:
        def e = thrown(IllegalArgumentException)
        e.message.endsWith("model_type = 'roberta' is not a causal language model peft4j loads; valid: llama, mistral, qwen2, gpt2, qwen3, gemma3_text, smollm3")
    }

    def "#family loads the same parameters from one file and from shards with an index"() {
        given:
        Path single = write(tmp.resolve('single'))
        Path sharded = shard(write(tmp.resolve('sharded')), 3)

        when:
        Module a = (Module) Registry.load(single, task)
        Module b = (Module) Registry.load(sharded, task)

        then:
        Files.exists(sharded.resolve('model-00003-of-00003.safetensors'))
        !Files.exists(sharded.resolve('model.safetensors'))
        a.namedParameters().keySet() == b.namedParameters().keySet()
        a.namedParameters().every { n, p -> p.value().toFloatArray() == b.namedParameters()[n].value().toFloatArray() }

        where:
        family    | task                                  | write
        'bert'    | Task.sequenceClassification(2, 1)     | { Path d -> new TinyBert(1).writeTo(d) }
        'bert'    | Task.ENCODER                          | { Path d -> new TinyBert(2).writeTo(d) }
        'roberta' | Task.ENCODER                          | { Path d -> new TinyBert(3).writeTo(d, [model_type: 'xlm-roberta', pad_token_id: 1]) }
        'llama'   | Task.CAUSAL_LM                        | { Path d -> new TinyLlama(4).writeTo(d) }
        'mistral' | Task.CAUSAL_LM                        | { Path d -> new TinyLlama(5, [model_type: 'mistral', sliding_window: 3]).writeTo(d) }
        'qwen2'   | Task.CAUSAL_LM                        | { Path d -> new TinyLlama(6, [model_type: 'qwen2']).writeTo(d) }
        'gpt2'    | Task.CAUSAL_LM                        | { Path d -> new TinyGpt2(7).writeTo(d) }
        'qwen3'   | Task.CAUSAL_LM                        | { Path d -> FixtureModels.copy('qwen3', d) }
        'gemma3'  | Task.CAUSAL_LM                        | { Path d -> FixtureModels.copy('gemma3-text', d) }
        'smollm3' | Task.CAUSAL_LM                        | { Path d -> FixtureModels.copy('smollm3', d) }
    }

    def "a field that changes the math and is not supported is refused by name with the supported values"() {
        given:
        def dir = new TinyLlama(8, overrides).writeTo(tmp)

        when:
        Registry.load(dir, Task.CAUSAL_LM)

        then:
        def e = thrown(ConfigException)
        e.message.contains(expected)

        where:
        overrides                                                                     | expected
        [rope_parameters: [rope_type: 'longrope', rope_theta: 1e4]]                   | "rope_parameters.rope_type = 'longrope' is not supported; valid: 'default', 'linear', 'dynamic', 'llama3', 'yarn'"
        [rope_scaling: [type: 'linear']]                                              | "rope_scaling.factor is missing; rope_type 'linear' needs it"
        [partial_rotary_factor: 0.5]                                                  | 'partial_rotary_factor = 0.5 is not supported; valid: 1.0'
        [rope_parameters: [full_attention: [rope_type: 'default'], sliding_attention: [rope_type: 'default']]] | 'rope_parameters gives parameters per layer type'
        [model_type: 'qwen2', layer_types: ['full_attention', 'sliding_attention']]   | 'layer_types has sliding_attention layers but use_sliding_window = false'
        [model_type: 'qwen2', layer_types: ['full_attention', 'chunked_attention']]   | "layer_types[1] = 'chunked_attention' is not supported; valid: 'full_attention', 'sliding_attention'"
        [model_type: 'mistral', sliding_window: -2]                                   | 'sliding_window = -2 must be > 0'
    }

    def "fields that do not change the math are accepted: dtype, torch_dtype, layer_types of a Llama, eos_token_id lists"() {
        given:
        def dir = new TinyLlama(9, [dtype: 'bfloat16', torch_dtype: 'float16', eos_token_id: [2, 7],
                                    layer_types: ['full_attention', 'sliding_attention'], use_cache: true]).writeTo(tmp)

        expect:
        Registry.config(dir).eosTokenIds() == [2, 7]
        Registry.config(dir).common().dtype() == 'bfloat16'
        Registry.load(dir, Task.CAUSAL_LM) != null
    }

    def "Qwen2's sliding layers are those from max_window_layers on, and only with use_sliding_window"() {
        given:
        def base = [model_type: 'qwen2', sliding_window: 5, max_window_layers: 1]

        expect:
        types(base + [use_sliding_window: true]) == ['full_attention', 'sliding_attention']
        types(base + [use_sliding_window: false]) == ['full_attention', 'full_attention']
        types(base + [use_sliding_window: true, max_window_layers: 0]) == ['sliding_attention', 'sliding_attention']
        types(base + [use_sliding_window: true, layer_types: ['sliding_attention', 'full_attention']]) == ['sliding_attention', 'full_attention']
        Registry.config(new TinyLlama(10, [model_type: 'mistral']).writeTo(tmp.resolve('m'))).slidingWindow() == 4096
        Registry.config(new TinyLlama(10, [model_type: 'mistral', sliding_window: null]).writeTo(tmp.resolve('n'))).slidingWindow() == 0
    }

    private List<String> types(Map overrides) {
        Path dir = new TinyLlama(11, overrides).writeTo(tmp.resolve(UUID.randomUUID().toString()))
        Registry.config(dir).layerTypes()*.hfName()
    }

    def "decoding step by step with the cache gives the logits of one full forward, across sliding windows (#name)"() {
        given: 'where the case has one, a window of 8 over 40 positions, as Transformers computed the fixture'
        HfFixture fx = HfFixture.load(name)
        CausalLm lm = Registry.load(fx.modelDir, Task.CAUSAL_LM)
        long[] ids = fx.inputIdRows[1] as long[]
        int prompt = 12

        when:
        float[] full = null
        List<float[]> steps = []
        try (def s = new StepScope(); KvCache cache = lm.newCache()) {
            full = lm.forward(m.create([ids] as long[][]), null, null, null).toFloatArray()
            steps << lm.forward(m.create([ids[0..<prompt] as long[]] as long[][]), null, null, cache).toFloatArray()
            for (int t = prompt; t < ids.length; t++) {
                steps << lm.forward(m.create([[ids[t]] as long[]] as long[][]), null, null, cache).toFloatArray()
            }
        }
        float[] stepped = steps.collectMany { it as List } as float[]

        then:
        HfFixture.compare(stepped as List<Float>, full as List<Float>).max < 1e-4   // float noise of other product shapes

        cleanup:
        ((Module) lm)?.namedParameters()?.values()?.each { it.value().close() }

        where:
        name << ['mistral-sliding', 'qwen2-sliding', 'gemma3-text', 'gemma3-softcap', 'qwen3', 'smollm3']
    }

    /** Moves {@code dir}'s model.safetensors into {@code n} shards and an index, as save_pretrained shards. */
    static Path shard(Path dir, int n) {
        Path file = dir.resolve('model.safetensors')
        NDManager m = Backend.get().manager().newSubManager()
        try {
            Map<String, NDArray> all = SafeTensors.read(file, m)
            Map<String, String> weightMap = [:]
            (all.keySet() as List).collate((int) Math.ceil(all.size() / (double) n)).eachWithIndex { List<String> part, int i ->
                String name = String.format('model-%05d-of-%05d.safetensors', i + 1, n)
                SafeTensors.write(dir.resolve(name), part.collectEntries { [(it): all[it]] }, [format: 'pt'])
                part.each { weightMap[it] = name }
            }
            Files.writeString(dir.resolve('model.safetensors.index.json'),
                    new ObjectMapper().writeValueAsString([metadata: [total_size: 0], weight_map: weightMap]))
            Files.delete(file)
            dir
        } finally {
            m.close()
        }
    }
}
