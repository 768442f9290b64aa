package org.peft4j.models.llama

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.Shape
import org.peft4j.models.core.Attention
import org.peft4j.models.core.AttentionContext
import org.peft4j.models.core.Masks
import org.peft4j.models.core.RopeParameters
import org.peft4j.models.core.RotaryEmbedding
import org.peft4j.models.core.KvCache
import org.peft4j.io.SafeTensors
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

class LlamaModelSpec extends Specification {

    @TempDir
    Path tmp

    NDManager m = Backend.get().manager()

    static float[] flat(NDArray a) { a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray() }

    static double maxDiff(float[] a, float[] b) {
        assert a.length == b.length
        double d = 0
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]))
        d
    }

    def "a tiny #type checkpoint in Hugging Face layout loads and gives (B, T, V) finite logits"() {
        given:
        def lm = TinyLlama.load(tmp, 1, [model_type: type, tie_word_embeddings: tied])

        when:
        float[] logits
        def shape
        try (def s = new StepScope()) {
            def out = lm.forward(m.create([[1, 2, 3, 4], [5, 6, 7, 8]] as long[][]), null)
            shape = out.shape
            logits = flat(out)
        }

        then:
        shape == new Shape(2, 4, TinyLlama.VOCAB)
        logits.every { Float.isFinite(it) }
        lm.namedParameters().containsKey('lm_head.weight') == !tied
        lm.namedParameters().containsKey('model.layers.1.self_attn.q_proj.bias') == (type == 'qwen2')
        !lm.namedParameters().containsKey('model.layers.1.self_attn.o_proj.bias')

        where:
        type      | tied
        'llama'   | false
        'mistral' | false
        'qwen2'   | true
    }

    def "decoding step by step with the KV cache gives the logits of one full forward (kv heads #kv)"() {
        given:
        def lm = TinyLlama.load(tmp, 2, [num_key_value_heads: kv])
        long[] ids = [3, 9, 1, 27, 14, 5, 8, 33, 2]
        int prompt = 4

        when:
        float[] full = null
        List<float[]> steps = []
        try (def s = new StepScope(); KvCache cache = lm.newCache()) {
            full = flat(lm.forward(m.create([ids] as long[][]), null))
            steps << flat(lm.forward(m.create([ids[0..<prompt] as long[]] as long[][]), null, null, cache))
            for (int t = prompt; t < ids.length; t++) {
                steps << flat(lm.forward(m.create([[ids[t]] as long[]] as long[][]), null, null, cache))
            }
        }
        float[] stepped = steps.collectMany { it as List } as float[]

        then:
        maxDiff(full, stepped) < 1e-5

        where:
        kv << [4, 2, 1]
    }

    def "left and right padding give the same logits on the real tokens, and those of the unpadded sequence"() {
        given:
        def lm = TinyLlama.load(tmp, 3)
        int V = TinyLlama.VOCAB
        long[] a = [4, 8, 15, 16, 23]
        long[] b = [1, 2, 3, 5, 8, 13, 21, 34]

        when:
        float[] right = null
        float[] left = null
        float[] alone = null
        try (def s = new StepScope()) {
            right = flat(lm.forward(m.create([(a as List) + [0L] * 3, b] as long[][]), m.create([[1] * 5 + [0] * 3, [1] * 8] as long[][])))
            left = flat(lm.forward(m.create([[0L] * 3 + (a as List), b] as long[][]), m.create([[0] * 3 + [1] * 5, [1] * 8] as long[][])))
            alone = flat(lm.forward(m.create([a] as long[][]), null))
        }

        then: "row 0's real tokens are positions 0..4 when right-padded and 3..7 when left-padded"
        maxDiff(right[0..<5 * V] as float[], left[3 * V..<8 * V] as float[]) < 1e-5
        maxDiff(right[0..<5 * V] as float[], alone) < 1e-5
        maxDiff(right[8 * V..<16 * V] as float[], left[8 * V..<16 * V] as float[]) < 1e-5
    }

    def "left-padded decoding with the cache matches the full forward of the padded batch"() {
        given:
        def lm = TinyLlama.load(tmp, 4)
        long[][] ids = [[0, 0, 7, 3, 9, 11], [2, 4, 6, 8, 10, 12]]
        long[][] mask = [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]]

        when:
        float[] full = null
        float[] last = null
        try (def s = new StepScope(); def cache = lm.newCache()) {
            NDArray all = lm.forward(m.create(ids), m.create(mask))
            full = flat(all.get(':, 5:'))
            lm.forward(m.create(ids.collect { it[0..<5] as long[] } as long[][]), m.create(mask.collect { it[0..<5] as long[] } as long[][]), null, cache)
            last = flat(lm.forward(m.create(ids.collect { [it[5]] as long[] } as long[][]), m.create(mask), null, cache))
        }

        then:
        maxDiff(full, last) < 1e-5
    }

    def "rotary embedding equals x cos(pθ) + rotate_half(x) sin(pθ) computed by hand"() {
        given:
        int hs = 6
        double theta = 100
        long[] positions = [0, 1, 5]
        double[][] x = [[0.5, -1, 2, 0.25, 1.5, -0.75], [1, 2, 3, 4, 5, 6], [-2, 0.5, 1, -1, 0.3, 0.9]]
        def rope = new RotaryEmbedding(m, hs, RopeParameters.plain(theta, 64))

        when:
        float[] got
        try (def s = new StepScope()) {
            def cs = rope.cosSin(m.create([positions] as long[][]))
            def xs = m.create(x.collect { it as float[] } as float[][]).reshape(1, 1, 3, hs)
            got = flat(RotaryEmbedding.apply(xs, cs.get(0), cs.get(1)))
        }

        then: "pairs are (i, i + hs/2) with θ_i = theta^(−2i/hs)"
        List<Double> expected = []
        for (int t = 0; t < 3; t++) {
            for (int i = 0; i < hs; i++) {
                int j = i % (hs.intdiv(2))
                double angle = positions[t] * Math.pow(theta, -2.0 * j / hs)
                double partner = i < hs.intdiv(2) ? -x[t][i + hs.intdiv(2)] : x[t][i - hs.intdiv(2)]
                expected << x[t][i] * Math.cos(angle) + partner * Math.sin(angle)
            }
        }
        maxDiff(got, expected as float[]) < 1e-5
    }

    def "llama3 rope_scaling gives the frequencies of transformers' _compute_llama3_parameters"() {
        given:
        def dir = new TinyLlama(5, [rope_theta: 500000.0, rope_scaling: [rope_type: 'llama3', factor: 8.0,
                low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192]]).writeTo(tmp)
        def config = LlamaFamily.INSTANCE.readConfig(dir.resolve('config.json'))

        when:
        double[] got = config.rope().inverseFrequencies(16, 0)

        then: "the formula, written out: low frequencies / factor, high kept, the band between interpolated"
        double[] expected = (0..<8).collect { int i ->
            double f = 1 / Math.pow(500000.0, 2 * i / 16.0)
            double wavelen = 2 * Math.PI / f
            if (wavelen < 8192 / 4.0) return f                    // high frequency: unchanged
            if (wavelen > 8192 / 1.0) return f / 8                // low frequency: slowed by factor
            double smooth = (8192 / wavelen - 1) / (4 - 1)
            (1 - smooth) * f / 8 + smooth * f
        } as double[]
        (0..<8).every { Math.abs(got[it] - expected[it]) <= 1e-12 * Math.abs(expected[it]) }
        and: "all three bands occur in this case"
        expected[0] == 1d && expected[7] == 1 / Math.pow(500000.0, 14 / 16.0) / 8
        expected[4] != 1 / Math.pow(500000.0, 0.5) && expected[4] != 1 / Math.pow(500000.0, 0.5) / 8
        and: "the loaded model uses them"
        TinyLlama.fromDir(dir).model().rotary().inverseFrequencies() ==
                config.rope().inverseFrequencies(4, 0)
    }

    def "sharded and single-file checkpoints load to the same parameters"() {
        given:
        def tiny = new TinyLlama(6)
        def single = TinyLlama.fromDir(tiny.writeTo(tmp.resolve('single')))
        def sharded = TinyLlama.fromDir(tiny.writeTo(tmp.resolve('sharded'), 3))

        expect:
        tmp.resolve('sharded/model-00003-of-00003.safetensors').toFile().exists()
        single.namedParameters().keySet() == sharded.namedParameters().keySet()
        single.namedParameters().every { name, p -> flat(p.value()) == flat(sharded.namedParameters()[name].value()) }
        flat(single.namedParameters()['lm_head.weight'].value()) == tiny.tensors['lm_head.weight'][1]
    }

    def "a bf16 checkpoint loads widened to f32: each value is its f32 with the low 16 bits cleared"() {
        given:
        def tiny = new TinyLlama(10)
        tiny.writeTo(tmp)
        writeBf16(tmp.resolve('model.safetensors'), tiny.tensors)

        when:
        def lm = TinyLlama.fromDir(tmp)
        float[] original = tiny.tensors['model.layers.1.mlp.up_proj.weight'][1]
        float[] loaded = flat(lm.namedParameters()['model.layers.1.mlp.up_proj.weight'].value())

        then:
        SafeTensors.header(tmp.resolve('model.safetensors')).values()*.dtype().every { it == 'BF16' }
        lm.namedParameters()['model.layers.1.mlp.up_proj.weight'].value().dataType == ai.djl.ndarray.types.DataType.FLOAT32
        (0..<original.length).every { loaded[it] == Float.intBitsToFloat(Float.floatToIntBits(original[it]) & ~0xFFFF) }
    }

    /** A safetensors file written byte by byte, every tensor as bf16 (the upper half of each f32). */
    static void writeBf16(Path file, Map<String, List> tensors) {
        def header = [:]
        long offset = 0
        def data = new ByteArrayOutputStream()
        tensors.each { name, t ->
            float[] v = t[1]
            def buf = java.nio.ByteBuffer.allocate(v.length * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN)
            v.each { buf.putShort((short) (Float.floatToIntBits(it) >>> 16)) }
            header[name] = [dtype: 'BF16', shape: t[0], data_offsets: [offset, offset + v.length * 2]]
            offset += v.length * 2
            data.write(buf.array())
        }
        byte[] json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(header)
        def len = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(json.length)
        def out = new ByteArrayOutputStream()
        out.write(len.array())
        out.write(json)
        out.write(data.toByteArray())
        java.nio.file.Files.write(file, out.toByteArray())
    }

    def "attention with kv heads = heads equals plain multi-head attention computed by hand"() {
        given:
        def lm = TinyLlama.load(tmp, 7, [num_key_value_heads: TinyLlama.HEADS])
        def attn = lm.model().module('layers.0.self_attn') as Attention
        int T = 5, H = TinyLlama.H, nh = TinyLlama.HEADS, hs = H.intdiv(nh)
        def random = new Random(70)
        double[][] x = (0..<T).collect { (0..<H).collect { random.nextGaussian() } as double[] } as double[][]
        def w = { String n -> flat(lm.namedParameters()["model.layers.0.self_attn.${n}.weight".toString()].value()) }

        when:
        float[] got
        try (def s = new StepScope()) {
            def cs = lm.model().rotary().cosSin(m.arange(0, T, 1, ai.djl.ndarray.types.DataType.INT64).reshape(1, T))
            def mask = Masks.causal(m, null, 0, T, 0, ai.djl.ndarray.types.DataType.FLOAT32)
            got = flat(attn.forward(m.create(x.collect { it as float[] } as float[][]).reshape(1, T, H), new AttentionContext(mask, null, cs.get(0), cs.get(1), null), 0, false))
        }

        then:
        double[][] q = rope(matmulT(x, w('q_proj'), H), nh, hs), k = rope(matmulT(x, w('k_proj'), H), nh, hs)
        double[][] v = matmulT(x, w('v_proj'), H)
        double[][] ctx = new double[T][H]
        for (int h = 0; h < nh; h++) {
            for (int i = 0; i < T; i++) {
                double[] p = (0..i).collect { j -> (0..<hs).sum { d -> q[i][h * hs + d] * k[j][h * hs + d] } / Math.sqrt(hs) } as double[]
                double max = p.max(), z = p.sum { Math.exp(it - max) }
                for (int j = 0; j <= i; j++) for (int d = 0; d < hs; d++) ctx[i][h * hs + d] += Math.exp(p[j] - max) / z * v[j][h * hs + d]
            }
        }
        double[][] expected = matmulT(ctx, w('o_proj'), H)
        maxDiff(got, expected.collectMany { it as List } as float[]) < 1e-4
    }

    def "grouped-query attention equals multi-head attention with each kv head repeated for its group"() {
        given:
        def tiny = new TinyLlama(8, [num_key_value_heads: 2])
        def gqa = TinyLlama.fromDir(tiny.writeTo(tmp.resolve('gqa')))
        def mha = new TinyLlama(8, [num_key_value_heads: 2])
        mha.config.num_key_value_heads = 4
        int hs = TinyLlama.H.intdiv(TinyLlama.HEADS)
        mha.tensors.findAll { it.key =~ /[kv]_proj/ }.each { name, t ->
            float[] w = t[1]
            // kv head g serves query heads 2g and 2g + 1: rows of head g, twice
            List<Float> rows = []
            for (int g = 0; g < 2; g++) 2.times { rows.addAll((w as List).subList(g * hs * TinyLlama.H, (g + 1) * hs * TinyLlama.H)) }
            mha.tensors[name] = [[4 * hs, TinyLlama.H], rows as float[]]
        }
        def full = TinyLlama.fromDir(mha.writeTo(tmp.resolve('mha')))

        expect:
        try (def s = new StepScope()) {
            def ids = m.create([[5, 1, 30, 2, 7, 7]] as long[][])
            maxDiff(flat(gqa.forward(ids, null)), flat(full.forward(ids, null))) < 1e-5
        }
    }

    def "an unsupported config lists every problem with the file"() {
        given:
        def dir = new TinyLlama(9, [model_type: 'falcon', hidden_act: 'gelu', num_key_value_heads: 3,
                rope_scaling: [type: 'longrope', factor: 4.0]]).writeTo(tmp)

        when:
        LlamaFamily.INSTANCE.readConfig(dir.resolve('config.json'))

        then:
        def e = thrown(org.peft4j.config.ConfigException)
        e.message.contains("model_type = 'falcon' is not supported")
        e.message.contains("hidden_act = 'gelu'")
        e.message.contains("rope_scaling.rope_type = 'longrope'")
    }

    /** y = x Wᵀ, W [out, in] flat. */
    static double[][] matmulT(double[][] x, float[] w, int inF) {
        int out = w.length / inF
        x.collect { row -> (0..<out).collect { o -> (0..<inF).sum { c -> row[c] * w[o * inF + c] } } as double[] } as double[][]
    }

    /** Rotary by its formula, per head, position = row index. */
    static double[][] rope(double[][] x, int nh, int hs) {
        x.withIndex().collect { double[] row, int p ->
            double[] out = new double[row.length]
            for (int h = 0; h < nh; h++) {
                for (int i = 0; i < hs; i++) {
                    int j = i % (hs.intdiv(2))
                    double angle = p * Math.pow(10000.0, -2.0 * j / hs)
                    double partner = i < hs.intdiv(2) ? -row[h * hs + i + hs.intdiv(2)] : row[h * hs + i - hs.intdiv(2)]
                    out[h * hs + i] = row[h * hs + i] * Math.cos(angle) + partner * Math.sin(angle)
                }
            }
            out
        } as double[][]
    }
}
