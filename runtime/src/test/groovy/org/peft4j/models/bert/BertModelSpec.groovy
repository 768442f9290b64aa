package org.peft4j.models.bert

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.NDScope
import org.peft4j.models.Registry
import org.peft4j.models.core.BertConfig
import org.peft4j.models.core.ClassifierHead
import org.peft4j.models.core.MeanPooledClassifier
import org.peft4j.models.core.Task
import org.peft4j.nn.LinearLayer
import org.peft4j.nn.Module
import org.peft4j.tensor.Backend
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

class BertModelSpec extends Specification {

    static final double TOL = 1e-4

    @TempDir
    Path tmp

    @Shared
    TinyBert tiny = new TinyBert(7)

    // row 0 is full; row 1 has three real tokens and two padding positions
    static final List<List<Integer>> IDS = [[2, 5, 9, 13, 4], [3, 17, 6, 0, 0]]
    static final List<List<Integer>> TYPES = [[0, 0, 1, 1, 1], [0, 1, 1, 0, 0]]
    static final List<List<Integer>> MASK = [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]

    NDManager manager

    def setup() {
        manager = Backend.get().manager().newSubManager()
    }

    def cleanup() {
        manager.close()
    }

    NDArray longs(List<List<Integer>> rows) {
        manager.create(rows.collect { it as long[] } as long[][])
    }

    /** Runs {@code body} in a step scope and brings its result back as nested double lists. */
    static List values(Closure<NDArray> body) {
        NDScope scope = new NDScope()
        try {
            NDArray out = body()
            List<Long> shape = out.shape.shape as List<Long>
            float[] flat = out.toFloatArray()
            return nest(flat.collect { it as double }, shape)
        } finally {
            scope.close()
        }
    }

    static List nest(List<Double> flat, List<Long> shape) {
        if (shape.size() == 1) return flat
        int n = shape[0] as int
        int inner = flat.size().intdiv(n)
        (0..<n).collect { int i -> nest(flat.subList(i * inner, (i + 1) * inner), shape.tail()) }
    }

    static double maxDiff(actual, expected) {
        if (actual instanceof List || actual.getClass().isArray()) {
            assert actual.size() == expected.size()
            return (0..<actual.size()).collect { maxDiff(actual[it], expected[it]) }.max()
        }
        Math.abs((actual as double) - (expected as double))
    }

    def "the erf used by the reference agrees with known values"() {
        expect:
        Math.abs(TinyBert.erf(x) - erf) < 1e-12

        where:
        x    | erf
        0    | 0
        0.5  | 0.5204998778130465
        1    | 0.8427007929497149
        -2   | -0.9953222650189527
        3.5  | 0.9999992569016276
    }

    def "parameter paths are exactly the Hugging Face names"() {
        given:
        def model = new BertModel(manager, BertConfig.read(tiny.writeTo(tmp).resolve('config.json')))

        expect:
        model.namedParameters().keySet() == tiny.tensors.keySet()
        model.namedParameters().every { name, p -> p.value().shape.shape as List == tiny.tensors[name][0] }
    }

    def "a tiny BERT loaded from a Hugging Face directory computes what hand arithmetic computes, padding included"() {
        given:
        def model = BertModel.fromPretrained(tiny.writeTo(tmp))

        when:
        def hidden = values { model.forward(longs(IDS), longs(MASK), longs(TYPES)) }
        def expected = (0..1).collect { tiny.forward(IDS[it], TYPES[it], MASK[it]) }

        then:
        hidden.size() == 2 && hidden[0].size() == 5 && hidden[0][0].size() == TinyBert.H
        maxDiff(hidden, expected) < TOL
    }

    def "padded positions do not change the real tokens' outputs"() {
        given:
        def model = BertModel.fromPretrained(tiny.writeTo(tmp))

        when: 'row 1 is run alone without padding, and in the batch with different junk in its padding'
        def alone = values { model.forward(longs([IDS[1][0..2]]), longs([[1, 1, 1]]), longs([TYPES[1][0..2]])) }
        def otherJunk = values {
            model.forward(longs([IDS[0], [3, 17, 6, 11, 19]]), longs(MASK), longs([TYPES[0], [0, 1, 1, 1, 0]]))
        }
        def batched = values { model.forward(longs(IDS), longs(MASK), longs(TYPES)) }

        then:
        maxDiff(batched[1][0..2], alone[0]) < TOL
        maxDiff(otherJunk[1][0..2], alone[0]) < TOL
        maxDiff(otherJunk[0], batched[0]) < TOL
    }

    def "missing token types mean segment 0 everywhere"() {
        given:
        def model = BertModel.fromPretrained(tiny.writeTo(tmp))

        expect:
        maxDiff(values { model.forward(longs(IDS), longs(MASK), null) },
                values { model.forward(longs(IDS), longs(MASK), longs([[0] * 5, [0] * 5])) }) < 1e-7
    }

    def "a bert-prefixed checkpoint with pooler and position ids loads into the same model"() {
        given: 'a checkpoint as BertForSequenceClassification saves it'
        def extra = ['pooler.dense.weight'   : [[TinyBert.H, TinyBert.H], new double[TinyBert.H * TinyBert.H]],
                     'pooler.dense.bias'     : [[TinyBert.H], new double[TinyBert.H]],
                     'embeddings.position_ids': [[1, TinyBert.MAX_POS], (0..<TinyBert.MAX_POS) as double[]]]
        def model = BertModel.fromPretrained(tiny.writeTo(tmp, [:], { "bert.$it".toString() }, extra))

        expect:
        maxDiff(values { model.forward(longs(IDS), longs(MASK), longs(TYPES)) },
                (0..1).collect { tiny.forward(IDS[it], TYPES[it], MASK[it]) }) < TOL
    }

    def "the mean head reads the mean of the real tokens through a classifier loaded from the checkpoint"() {
        given:
        def random = new Random(3)
        def w = (0..<3 * TinyBert.H).collect { (double) (float) random.nextGaussian() } as double[]
        def b = [0.5d, -0.25d, 0.125d] as double[]
        def dir = tiny.writeTo(tmp, [:], { it.startsWith('classifier.') ? it : "bert.$it".toString() },
                ['classifier.weight': [[3, TinyBert.H], w], 'classifier.bias': [[3], b]])
        def model = (MeanPooledClassifier) Registry.load(dir, Task.sequenceClassification(3, 42, ClassifierHead.MEAN))

        when:
        def logits = values { model.forward(longs(IDS), longs(MASK), longs(TYPES)) }
        def pooled = values { model.embed(longs(IDS), longs(MASK), longs(TYPES)) }
        def expectedPooled = (0..1).collect { TinyBert.meanPool(tiny.forward(IDS[it], TYPES[it], MASK[it]), MASK[it]) }
        def expectedLogits = expectedPooled.collect { double[] p ->
            (0..<3).collect { o -> b[o] + (0..<TinyBert.H).sum { d -> w[o * TinyBert.H + d] * p[d] } }
        }

        then:
        maxDiff(pooled, expectedPooled) < TOL
        maxDiff(logits, expectedLogits) < TOL
    }

    def "the Transformers head reads tanh(pooler(h[CLS])) through the checkpoint's pooler and classifier"() {
        given:
        def random = new Random(4)
        def draw = { int n -> (0..<n).collect { (double) (float) (random.nextGaussian() * 0.5) } as double[] }
        def pw = draw(TinyBert.H * TinyBert.H), pb = draw(TinyBert.H), w = draw(3 * TinyBert.H), b = draw(3)
        def dir = tiny.writeTo(tmp, [:], { it.startsWith('classifier.') ? it : "bert.$it".toString() },
                ['pooler.dense.weight': [[TinyBert.H, TinyBert.H], pw], 'pooler.dense.bias': [[TinyBert.H], pb],
                 'classifier.weight'  : [[3, TinyBert.H], w], 'classifier.bias': [[3], b]])
        def model = BertForSequenceClassification.fromPretrained(dir, 3, 42)

        when:
        def logits = values { model.forward(longs(IDS), longs(MASK), longs(TYPES)) }
        def expected = (0..1).collect { int r ->
            double[] cls = tiny.forward(IDS[r], TYPES[r], MASK[r])[0]
            double[] pooled = (0..<TinyBert.H).collect { int o ->
                Math.tanh(pb[o] + (0..<TinyBert.H).sum { int d -> pw[o * TinyBert.H + d] * cls[d] })
            } as double[]
            (0..<3).collect { int o -> b[o] + (0..<TinyBert.H).sum { int d -> w[o * TinyBert.H + d] * pooled[d] } }
        }

        then: 'nothing was drawn: the checkpoint held the whole head'
        maxDiff(logits, expected) < TOL
        Registry.newParameters(dir, Task.sequenceClassification(3, 42), model).isEmpty()
    }

    def "a fresh classifier is Normal(0, initializer_range) from the seed with a zero bias"() {
        given:
        def dir = tiny.writeTo(tmp)

        when:
        def a = BertForSequenceClassification.fromPretrained(dir, 2, 42)
        def b = BertForSequenceClassification.fromPretrained(dir, 2, 42)
        def c = BertForSequenceClassification.fromPretrained(dir, 2, 43)
        float[] wa = a.namedParameters()['classifier.weight'].value().toFloatArray()

        then:
        wa == b.namedParameters()['classifier.weight'].value().toFloatArray()
        wa != c.namedParameters()['classifier.weight'].value().toFloatArray()
        a.namedParameters()['classifier.bias'].value().toFloatArray() == [0f, 0f] as float[]
        wa.every { Math.abs(it) < 0.02 * 5 } && wa.any { it != 0f }
        a.namedParameters().keySet().containsAll(tiny.tensors.keySet().collect { "bert.$it".toString() })
    }

    def "dropout acts only in training mode"() {
        given:
        def model = BertForSequenceClassification.fromPretrained(tiny.writeTo(tmp), 2, 1)
        def run = { values { model.forward(longs(IDS), longs(MASK), longs(TYPES)) } }

        when:
        def eval1 = run()
        def eval2 = run()
        model.train(true)
        def train1 = run()
        def train2 = run()
        model.train(false)

        then:
        eval1 == eval2
        train1 != train2
        run() == eval1
    }

    def "gradients through the encoder match central differences of the hand arithmetic"() {
        given: 'each layer releases its temporaries when it returns (LayerScope); backward must still see what it saved'
        def model = BertModel.fromPretrained(tiny.writeTo(tmp))
        model.setTrainable(true)
        int t = IDS[0].size()
        double[][] c = (0..<t).collect { i -> (0..<TinyBert.H).collect { d -> Math.sin(1 + i * TinyBert.H + d) } as double[] } as double[][]
        def reference = { -> (0..1).sum { b ->
            double[][] h = tiny.forward(IDS[b], TYPES[b], MASK[b])
            (0..<t).sum { i -> (0..<TinyBert.H).sum { d -> h[i][d] * c[i][d] } }
        } as double }

        when:
        Map<String, Double> grads = [:]
        NDScope scope = new NDScope()
        try {
            def collector = ai.djl.engine.Engine.getInstance().newGradientCollector()
            try {
                NDArray hidden = model.forward(longs(IDS), longs(MASK), longs(TYPES))
                collector.backward(hidden.mul(manager.create(c).expandDims(0)).sum())
            } finally {
                collector.close()
            }
            CHECKED.each { name, index -> grads[name] = model.namedParameters()[name].value().gradient.toFloatArray()[index] as double }
        } finally {
            scope.close()
        }

        then:
        CHECKED.every { name, index ->
            double[] v = tiny.tensors[name][1] as double[]
            double keep = v[index], eps = 1e-4
            v[index] = keep + eps
            double up = reference()
            v[index] = keep - eps
            double down = reference()
            v[index] = keep
            double fd = (up - down) / (2 * eps)
            Math.abs(grads[name] - fd) < 2e-3 * Math.max(1, Math.abs(fd))
        }
    }

    // one entry of each kind of weight, in both layers, that gradients reach along different paths
    static final Map<String, Integer> CHECKED = [
            'encoder.layer.0.attention.self.query.weight'   : 3,
            'encoder.layer.0.attention.self.key.bias'       : 1,
            'encoder.layer.1.attention.self.value.weight'   : 10,
            'encoder.layer.0.intermediate.dense.weight'     : 17,
            'encoder.layer.1.output.LayerNorm.weight'       : 2,
            'embeddings.word_embeddings.weight'             : 5 * TinyBert.H + 1]

    def "the attention looks its linears up by name, so a replaced query is the one used"() {
        given:
        def model = BertModel.fromPretrained(tiny.writeTo(tmp))
        def self = model.module('encoder.layer.1.attention.self')
        def counting = new CountingLinear(self.child('query') as LinearLayer)
        def before = values { model.forward(longs(IDS), longs(MASK), longs(TYPES)) }

        when:
        self.replaceChild('query', counting)
        def after = values { model.forward(longs(IDS), longs(MASK), longs(TYPES)) }

        then:
        counting.calls == 1
        maxDiff(after, before) < 1e-7
        model.namedParameters().containsKey('encoder.layer.1.attention.self.query.base.weight')
    }

    /** Wraps a linear the way an adapter does, counting the calls that reach it. */
    static class CountingLinear extends Module implements LinearLayer {
        final LinearLayer base
        int calls

        CountingLinear(LinearLayer base) {
            this.base = base
            addChild('base', base as Module)
        }

        NDArray forward(NDArray x) {
            calls++
            base.forward(x)
        }

        long inFeatures() { base.inFeatures() }

        long outFeatures() { base.outFeatures() }
    }
}
