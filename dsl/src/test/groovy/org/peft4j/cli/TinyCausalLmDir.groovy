package org.peft4j.cli

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.Shape
import groovy.json.JsonOutput
import org.peft4j.io.SafeTensors
import org.peft4j.tensor.Backend

import java.nio.file.Files
import java.nio.file.Path

/**
 * A tiny random Llama written as a Hugging Face directory: config.json, model.safetensors and a
 * character-level WordLevel tokenizer.json whose vocabulary is exactly the model's, so every id decodes.
 * (The runtime's TinyLlama and CharTokenizer are not on the dsl test classpath.)
 */
class TinyCausalLmDir {

    static final String CHARS = 'abcdefghijklmnopqrstuvwxyz .'
    static final List<String> SPECIALS = ['<unk>']
    static final int VOCAB = SPECIALS.size() + CHARS.length()
    static final int H = 16, I = 24, LAYERS = 2, HEADS = 4

    /** @param zeroHead an all-zero lm_head: every logit is 0, so each next token has probability 1/V */
    static Path write(Path dir, long seed, boolean zeroHead = false) {
        dir.toFile().mkdirs()
        Files.writeString(dir.resolve('config.json'), JsonOutput.toJson([
                architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: H, intermediate_size: I,
                num_hidden_layers: LAYERS, num_attention_heads: HEADS, num_key_value_heads: 2, rms_norm_eps: 1e-5,
                vocab_size: VOCAB, max_position_embeddings: 64, tie_word_embeddings: false, hidden_act: 'silu']))
        Random random = new Random(seed)
        NDManager m = Backend.get().manager().newSubManager()
        try {
            Map<String, NDArray> t = [:]
            def put = { String name, List<Integer> shape, double std, double mean = 0 ->
                int n = shape.inject(1) { a, b -> a * b } as int
                float[] v = new float[n]
                for (int i = 0; i < n; i++) {
                    v[i] = (float) (mean + random.nextGaussian() * std)
                }
                t[name] = m.create(v, new Shape(shape as long[]))
            }
            put('model.embed_tokens.weight', [VOCAB, H], 1.0)
            int hs = H / HEADS
            for (int l = 0; l < LAYERS; l++) {
                String p = "model.layers.$l"
                put("${p}.self_attn.q_proj.weight", [HEADS * hs, H], 0.3)
                put("${p}.self_attn.k_proj.weight", [2 * hs, H], 0.3)
                put("${p}.self_attn.v_proj.weight", [2 * hs, H], 0.3)
                put("${p}.self_attn.o_proj.weight", [H, HEADS * hs], 0.3)
                put("${p}.mlp.gate_proj.weight", [I, H], 0.3)
                put("${p}.mlp.up_proj.weight", [I, H], 0.3)
                put("${p}.mlp.down_proj.weight", [H, I], 0.3)
                put("${p}.input_layernorm.weight", [H], 0.1, 1.0)
                put("${p}.post_attention_layernorm.weight", [H], 0.1, 1.0)
            }
            put('model.norm.weight', [H], 0.1, 1.0)
            put('lm_head.weight', [VOCAB, H], zeroHead ? 0 : 1.0)
            SafeTensors.write(dir.resolve('model.safetensors'), t, [format: 'pt'])
        } finally {
            m.close()
        }
        writeTokenizer(dir)
        dir
    }

    /** Every character is one token; the Fuse decoder joins them back without spaces in between. */
    static void writeTokenizer(Path dir) {
        Map<String, Integer> vocab = [:]
        SPECIALS.each { vocab[it] = vocab.size() }
        CHARS.each { vocab[it] = vocab.size() }
        def added = SPECIALS.withIndex().collect { String s, int i ->
            [id: i, content: s, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true]
        }
        Files.writeString(dir.resolve('tokenizer.json'), JsonOutput.toJson([
                version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
                pre_tokenizer: [type: 'Split', pattern: [Regex: '[\\s\\S]'], behavior: 'Isolated', invert: false],
                post_processor: null, decoder: [type: 'Fuse'],
                model: [type: 'WordLevel', vocab: vocab, unk_token: '<unk>']]))
    }
}
