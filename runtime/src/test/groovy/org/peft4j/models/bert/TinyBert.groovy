package org.peft4j.models.bert

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.Shape
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.io.SafeTensors
import org.peft4j.tensor.Backend

import java.nio.file.Files
import java.nio.file.Path

/**
 * A tiny BERT with random weights, written as a Hugging Face directory, and an independent forward
 * pass over it in plain double arithmetic: the golden values the engine's output is checked against.
 */
class TinyBert {

    static final int H = 8, HEADS = 2, HS = 4, I = 16, LAYERS = 2, VOCAB = 20, MAX_POS = 16, TYPES = 2
    static final double EPS = 1e-12

    /** name -> (shape, values rounded to f32, since that is what the file holds). */
    final Map<String, List> tensors = new LinkedHashMap<>()

    TinyBert(long seed) {
        def random = new Random(seed)
        def put = { String name, List<Integer> shape, Closure<Double> draw ->
            int n = shape.inject(1) { a, b -> a * b }
            double[] v = new double[n]
            for (int i = 0; i < n; i++) v[i] = (double) (float) draw()
            tensors[name] = [shape, v]
        }
        def weight = { random.nextGaussian() * 0.5d }
        def bias = { random.nextGaussian() * 0.1d }
        def gamma = { 1d + random.nextGaussian() * 0.1d }
        put('embeddings.word_embeddings.weight', [VOCAB, H], weight)
        put('embeddings.position_embeddings.weight', [MAX_POS, H], weight)
        put('embeddings.token_type_embeddings.weight', [TYPES, H], weight)
        put('embeddings.LayerNorm.weight', [H], gamma)
        put('embeddings.LayerNorm.bias', [H], bias)
        for (int l = 0; l < LAYERS; l++) {
            def p = "encoder.layer.$l"
            for (String m : ['query', 'key', 'value']) {
                put("${p}.attention.self.${m}.weight", [H, H], weight)
                put("${p}.attention.self.${m}.bias", [H], bias)
            }
            put("${p}.attention.output.dense.weight", [H, H], weight)
            put("${p}.attention.output.dense.bias", [H], bias)
            put("${p}.attention.output.LayerNorm.weight", [H], gamma)
            put("${p}.attention.output.LayerNorm.bias", [H], bias)
            put("${p}.intermediate.dense.weight", [I, H], weight)
            put("${p}.intermediate.dense.bias", [I], bias)
            put("${p}.output.dense.weight", [H, I], weight)
            put("${p}.output.dense.bias", [H], bias)
            put("${p}.output.LayerNorm.weight", [H], gamma)
            put("${p}.output.LayerNorm.bias", [H], bias)
        }
    }

    static Map config(Map overrides = [:]) {
        [architectures: ['BertModel'], model_type: 'bert', hidden_size: H, num_hidden_layers: LAYERS,
         num_attention_heads: HEADS, intermediate_size: I, hidden_act: 'gelu', vocab_size: VOCAB,
         max_position_embeddings: MAX_POS, type_vocab_size: TYPES, layer_norm_eps: EPS, hidden_dropout_prob: 0.1,
         attention_probs_dropout_prob: 0.1, initializer_range: 0.02, pad_token_id: 0] + overrides
    }

    /**
     * Writes config.json and model.safetensors into {@code dir}. {@code rename} maps (or, returning
     * null, drops) names; {@code extra} adds tensors as name -> [shape, double[]].
     */
    Path writeTo(Path dir, Map configOverrides = [:], Closure<String> rename = { it }, Map<String, List> extra = [:]) {
        dir.toFile().mkdirs()
        Files.writeString(dir.resolve('config.json'),
                new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(config(configOverrides)))
        NDManager m = Backend.get().manager().newSubManager()
        try {
            Map<String, NDArray> arrays = [:]
            (tensors + extra).each { String name, List t ->
                String target = rename(name)
                if (target != null) {
                    List<Integer> shape = t[0]
                    double[] v = t[1]
                    arrays[target] = m.create(v.collect { (float) it } as float[], new Shape(shape as long[]))
                }
            }
            SafeTensors.write(dir.resolve('model.safetensors'), arrays, [format: 'pt'])
        } finally {
            m.close()
        }
        dir
    }

    double[] t(String name) { tensors[name][1] as double[] }

    // ---- the reference forward pass, one sequence at a time ----

    /** Last hidden state (T, H) of one sequence; keys with mask 0 take no part in attention. */
    double[][] forward(List<Integer> ids, List<Integer> types, List<Integer> mask) {
        int T = ids.size()
        double[][] x = new double[T][H]
        for (int i = 0; i < T; i++) {
            for (int d = 0; d < H; d++) {
                x[i][d] = t('embeddings.word_embeddings.weight')[ids[i] * H + d] +
                        t('embeddings.position_embeddings.weight')[i * H + d] +
                        t('embeddings.token_type_embeddings.weight')[types[i] * H + d]
            }
        }
        x = layerNorm(x, 'embeddings.LayerNorm')
        for (int l = 0; l < LAYERS; l++) {
            def p = "encoder.layer.$l"
            double[][] q = linear(x, "${p}.attention.self.query")
            double[][] k = linear(x, "${p}.attention.self.key")
            double[][] v = linear(x, "${p}.attention.self.value")
            double[][] ctx = new double[T][H]
            for (int h = 0; h < HEADS; h++) {
                for (int i = 0; i < T; i++) {
                    double[] s = new double[T]
                    double max = Double.NEGATIVE_INFINITY
                    for (int j = 0; j < T; j++) {
                        if (mask[j] == 0) continue
                        double dot = 0
                        for (int d = 0; d < HS; d++) dot += q[i][h * HS + d] * k[j][h * HS + d]
                        s[j] = dot / Math.sqrt(HS)
                        max = Math.max(max, s[j])
                    }
                    double z = 0
                    for (int j = 0; j < T; j++) {
                        s[j] = mask[j] == 0 ? 0 : Math.exp(s[j] - max)
                        z += s[j]
                    }
                    for (int j = 0; j < T; j++) {
                        for (int d = 0; d < HS; d++) ctx[i][h * HS + d] += s[j] / z * v[j][h * HS + d]
                    }
                }
            }
            double[][] a = layerNorm(add(linear(ctx, "${p}.attention.output.dense"), x), "${p}.attention.output.LayerNorm")
            double[][] inter = linear(a, "${p}.intermediate.dense").collect { row -> row.collect { gelu(it) } as double[] } as double[][]
            x = layerNorm(add(linear(inter, "${p}.output.dense"), a), "${p}.output.LayerNorm")
        }
        x
    }

    /** Mean of the rows whose mask is 1. */
    static double[] meanPool(double[][] hidden, List<Integer> mask) {
        double[] out = new double[hidden[0].length]
        int n = 0
        hidden.eachWithIndex { double[] row, int i ->
            if (mask[i] == 1) {
                n++
                for (int d = 0; d < row.length; d++) out[d] += row[d]
            }
        }
        out.collect { it / n } as double[]
    }

    double[][] linear(double[][] x, String prefix) {
        double[] w = t("${prefix}.weight")
        double[] b = t("${prefix}.bias")
        int out = b.length, inF = x[0].length
        double[][] y = new double[x.length][out]
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = b[o]
                for (int c = 0; c < inF; c++) s += x[i][c] * w[o * inF + c]
                y[i][o] = s
            }
        }
        y
    }

    double[][] layerNorm(double[][] x, String prefix) {
        double[] g = t("${prefix}.weight")
        double[] b = t("${prefix}.bias")
        x.collect { double[] row ->
            double mean = row.sum() / row.length
            double var = row.collect { (it - mean) * (it - mean) }.sum() / row.length  // biased, as PyTorch
            double inv = 1 / Math.sqrt(var + EPS)
            (0..<row.length).collect { (row[it] - mean) * inv * g[it] + b[it] } as double[]
        } as double[][]
    }

    static double[][] add(double[][] a, double[][] b) {
        (0..<a.length).collect { i -> (0..<a[i].length).collect { a[i][it] + b[i][it] } as double[] } as double[][]
    }

    /** Exact GELU, x Φ(x) = x (1 + erf(x / √2)) / 2. */
    static double gelu(double x) {
        x * 0.5d * (1 + erf(x / Math.sqrt(2)))
    }

    /**
     * erf by its Maclaurin series, 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1)), summed until the terms
     * vanish. Past |x| = 4 erf is ±1 to within erfc(4) ≈ 1.5e-8, and the alternating series would
     * start losing digits to cancellation there.
     */
    static double erf(double x) {
        if (Math.abs(x) > 4) return Math.signum(x)
        double sum = 0, term = x  // term = (-1)^n x^(2n+1) / n!
        for (int n = 0; n < 200 && (n < 3 || Math.abs(term) > 1e-17); n++) {
            sum += term / (2 * n + 1)
            term *= -x * x / (n + 1)
        }
        sum * 2 / Math.sqrt(Math.PI)
    }
}
