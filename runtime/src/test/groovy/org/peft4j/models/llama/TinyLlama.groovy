package org.peft4j.models.llama

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.Shape
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.io.SafeTensors
import org.peft4j.models.Registry
import org.peft4j.models.core.DecoderForCausalLM
import org.peft4j.models.core.Task
import org.peft4j.tensor.Backend

import java.nio.file.Files
import java.nio.file.Path

/** A tiny Llama-family checkpoint with random weights, written in the exact Hugging Face layout. */
class TinyLlama {

    static final int H = 16, I = 24, LAYERS = 2, HEADS = 4, VOCAB = 40, MAX_POS = 64

    final Map config
    /** name -> [shape, float[]] */
    final Map<String, List> tensors = new LinkedHashMap<>()

    TinyLlama(long seed, Map overrides = [:]) {
        config = [architectures          : ['LlamaForCausalLM'], model_type: 'llama', hidden_size: H,
                  intermediate_size      : I, num_hidden_layers: LAYERS, num_attention_heads: HEADS,
                  num_key_value_heads    : 2, rms_norm_eps: 1e-5, rope_theta: 10000.0, vocab_size: VOCAB,
                  max_position_embeddings: MAX_POS, tie_word_embeddings: false, hidden_act: 'silu'] + overrides
        int kv = config.num_key_value_heads
        int hs = config.head_dim ?: H / (int) config.num_attention_heads
        int nh = config.num_attention_heads
        boolean qwen = config.model_type == 'qwen2'
        def random = new Random(seed)
        def put = { String name, List<Integer> shape, double std, double mean = 0 ->
            int n = shape.inject(1) { a, b -> a * b }
            float[] v = new float[n]
            for (int i = 0; i < n; i++) v[i] = (float) (mean + random.nextGaussian() * std)
            tensors[name] = [shape, v]
        }
        put('model.embed_tokens.weight', [VOCAB, H], 1.0)
        for (int l = 0; l < LAYERS; l++) {
            def p = "model.layers.$l"
            put("${p}.self_attn.q_proj.weight", [nh * hs, H], 0.3)
            put("${p}.self_attn.k_proj.weight", [kv * hs, H], 0.3)
            put("${p}.self_attn.v_proj.weight", [kv * hs, H], 0.3)
            put("${p}.self_attn.o_proj.weight", [H, nh * hs], 0.3)
            if (qwen) {
                put("${p}.self_attn.q_proj.bias", [nh * hs], 0.1)
                put("${p}.self_attn.k_proj.bias", [kv * hs], 0.1)
                put("${p}.self_attn.v_proj.bias", [kv * hs], 0.1)
            }
            put("${p}.mlp.gate_proj.weight", [I, H], 0.3)
            put("${p}.mlp.up_proj.weight", [I, H], 0.3)
            put("${p}.mlp.down_proj.weight", [H, I], 0.3)
            put("${p}.input_layernorm.weight", [H], 0.1, 1.0)
            put("${p}.post_attention_layernorm.weight", [H], 0.1, 1.0)
        }
        put('model.norm.weight', [H], 0.1, 1.0)
        if (!config.tie_word_embeddings) {
            put('lm_head.weight', [VOCAB, H], 0.3)
        }
    }

    /** Writes config.json and model.safetensors (or {@code shards} shard files and the index). */
    Path writeTo(Path dir, int shards = 1) {
        dir.toFile().mkdirs()
        Files.writeString(dir.resolve('config.json'), new ObjectMapper().writeValueAsString(config))
        NDManager m = Backend.get().manager().newSubManager()
        try {
            List<String> names = tensors.keySet() as List
            if (shards == 1) {
                SafeTensors.write(dir.resolve('model.safetensors'), arrays(m, names), [format: 'pt'])
                return dir
            }
            Map<String, String> weightMap = [:]
            names.collate((int) Math.ceil(names.size() / (double) shards)).eachWithIndex { List<String> part, int i ->
                String file = String.format('model-%05d-of-%05d.safetensors', i + 1, shards)
                SafeTensors.write(dir.resolve(file), arrays(m, part), [format: 'pt'])
                part.each { weightMap[it] = file }
            }
            Files.writeString(dir.resolve('model.safetensors.index.json'),
                    new ObjectMapper().writeValueAsString([metadata: [total_size: 0], weight_map: weightMap]))
            return dir
        } finally {
            m.close()
        }
    }

    private Map<String, NDArray> arrays(NDManager m, List<String> names) {
        names.collectEntries { [(it): m.create(tensors[it][1] as float[], new Shape(tensors[it][0] as long[]))] }
    }

    /** A random model loaded back from a fresh directory. */
    static DecoderForCausalLM load(Path dir, long seed, Map overrides = [:]) {
        fromDir(new TinyLlama(seed, overrides).writeTo(dir))
    }

    /** A Llama-family directory loaded through the registry. */
    static DecoderForCausalLM fromDir(Path dir) {
        (DecoderForCausalLM) Registry.load(dir, Task.CAUSAL_LM)
    }
}
