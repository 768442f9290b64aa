package org.peft4j.models.gpt2

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.Shape
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.io.SafeTensors
import org.peft4j.tensor.Backend

import java.nio.file.Files
import java.nio.file.Path

/**
 * A tiny GPT-2 with random weights in the Hugging Face layout (Conv1D weights [in, out], the hub's
 * unprefixed names, causal-mask buffers included), and a forward pass in plain double arithmetic.
 */
class TinyGpt2 {

    static final int H = 8, HEADS = 2, HS = 4, I = 32, LAYERS = 2, VOCAB = 24, POS = 32
    static final double EPS = 1e-5

    final Map<String, List> tensors = new LinkedHashMap<>()

    TinyGpt2(long seed) {
        def random = new Random(seed)
        def put = { String name, List<Integer> shape, double std, double mean = 0 ->
            int n = shape.inject(1) { a, b -> a * b }
            double[] v = new double[n]
            for (int i = 0; i < n; i++) v[i] = (double) (float) (mean + random.nextGaussian() * std)
            tensors[name] = [shape, v]
        }
        put('wte.weight', [VOCAB, H], 1.0)
        put('wpe.weight', [POS, H], 0.5)
        for (int l = 0; l < LAYERS; l++) {
            def p = "h.$l"
            put("${p}.ln_1.weight", [H], 0.1, 1)
            put("${p}.ln_1.bias", [H], 0.1)
            put("${p}.attn.c_attn.weight", [H, 3 * H], 0.4)
            put("${p}.attn.c_attn.bias", [3 * H], 0.1)
            put("${p}.attn.c_proj.weight", [H, H], 0.4)
            put("${p}.attn.c_proj.bias", [H], 0.1)
            put("${p}.ln_2.weight", [H], 0.1, 1)
            put("${p}.ln_2.bias", [H], 0.1)
            put("${p}.mlp.c_fc.weight", [H, I], 0.4)
            put("${p}.mlp.c_fc.bias", [I], 0.1)
            put("${p}.mlp.c_proj.weight", [I, H], 0.4)
            put("${p}.mlp.c_proj.bias", [H], 0.1)
        }
        put('ln_f.weight', [H], 0.1, 1)
        put('ln_f.bias', [H], 0.1)
    }

    Path writeTo(Path dir, Closure<String> rename = { it }) {
        dir.toFile().mkdirs()
        Files.writeString(dir.resolve('config.json'), new ObjectMapper().writeValueAsString(
                [model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: H, n_layer: LAYERS, n_head: HEADS,
                 n_positions: POS, n_ctx: POS, vocab_size: VOCAB, layer_norm_epsilon: EPS,
                 activation_function: 'gelu_new', resid_pdrop: 0.1, embd_pdrop: 0.1, attn_pdrop: 0.1]))
        NDManager m = Backend.get().manager().newSubManager()
        try {
            Map<String, NDArray> arrays = [:]
            tensors.each { name, t ->
                arrays[rename(name)] = m.create(t[1].collect { (float) it } as float[], new Shape(t[0] as long[]))
            }
            // the lower-triangular mask buffer older GPT-2 checkpoints carry
            arrays[rename('h.0.attn.bias')] = m.ones(new Shape(1, 1, POS, POS))
            SafeTensors.write(dir.resolve('model.safetensors'), arrays, [format: 'pt'])
        } finally {
            m.close()
        }
        dir
    }

    double[] t(String name) { tensors[name][1] as double[] }

    /** Logits (T, V) of one unpadded sequence. */
    double[][] logits(List<Integer> ids) {
        int T = ids.size()
        double[][] x = (0..<T).collect { i -> (0..<H).collect { d -> t('wte.weight')[ids[i] * H + d] + t('wpe.weight')[i * H + d] } as double[] } as double[][]
        for (int l = 0; l < LAYERS; l++) {
            def p = "h.$l"
            double[][] qkv = conv1d(layerNorm(x, "${p}.ln_1"), "${p}.attn.c_attn")
            double[][] ctx = new double[T][H]
            for (int h = 0; h < HEADS; h++) {
                for (int i = 0; i < T; i++) {
                    double[] s = (0..i).collect { j -> (0..<HS).sum { d -> qkv[i][h * HS + d] * qkv[j][H + h * HS + d] } / Math.sqrt(HS) } as double[]
                    double max = s.max(), z = s.sum { Math.exp(it - max) }
                    for (int j = 0; j <= i; j++) for (int d = 0; d < HS; d++) ctx[i][h * HS + d] += Math.exp(s[j] - max) / z * qkv[j][2 * H + h * HS + d]
                }
            }
            x = add(x, conv1d(ctx, "${p}.attn.c_proj"))
            double[][] inner = conv1d(layerNorm(x, "${p}.ln_2"), "${p}.mlp.c_fc").collect { row -> row.collect { geluTanh(it) } as double[] } as double[][]
            x = add(x, conv1d(inner, "${p}.mlp.c_proj"))
        }
        x = layerNorm(x, 'ln_f')
        x.collect { row -> (0..<VOCAB).collect { v -> (0..<H).sum { d -> row[d] * t('wte.weight')[v * H + d] } } as double[] } as double[][]
    }

    /** y = x W + b with W [in, out]. */
    double[][] conv1d(double[][] x, String prefix) {
        double[] w = t("${prefix}.weight"), b = t("${prefix}.bias")
        int out = b.length, inF = x[0].length
        x.collect { row -> (0..<out).collect { o -> b[o] + (0..<inF).sum { c -> row[c] * w[c * out + o] } } as double[] } as double[][]
    }

    double[][] layerNorm(double[][] x, String prefix) {
        double[] g = t("${prefix}.weight"), b = t("${prefix}.bias")
        x.collect { double[] row ->
            double mean = row.sum() / row.length
            double var = row.collect { (it - mean) * (it - mean) }.sum() / row.length
            (0..<row.length).collect { (row[it] - mean) / Math.sqrt(var + EPS) * g[it] + b[it] } as double[]
        } as double[][]
    }

    static double[][] add(double[][] a, double[][] b) {
        (0..<a.length).collect { i -> (0..<a[i].length).collect { a[i][it] + b[i][it] } as double[] } as double[][]
    }

    static double geluTanh(double x) {
        0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))
    }
}
