package org.peft4j.testing

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import com.fasterxml.jackson.databind.ObjectMapper

import java.nio.file.Path
import java.nio.file.Paths

/**
 * One case of the Hugging Face interop fixtures (test resources under {@code hf/}, written by
 * tools/hf-fixtures): its model and adapter directories, its inputs and the outputs the standard
 * Transformers / PEFT class computed for them. See {@code hf/CASES.md} for the list and the format.
 */
class HfFixture {

    static final String ROOT = 'hf'

    final String name
    final Path dir
    final Map doc

    private HfFixture(String name, Path dir, Map doc) {
        this.name = name
        this.dir = dir
        this.doc = doc
    }

    /** The case {@code name} from the test classpath. */
    static HfFixture load(String name) {
        load(ROOT, name)
    }

    /** The case {@code name} of the fixtures under {@code root} on the test classpath. */
    static HfFixture load(String root, String name) {
        URL url = HfFixture.classLoader.getResource("$root/$name/expected.json")
        if (url == null) {
            throw new IllegalArgumentException("no fixture '$name' under $root/ on the test classpath; see $ROOT/CASES.md")
        }
        Path json = Paths.get(url.toURI())
        new HfFixture(name, json.parent, new ObjectMapper().readValue(json.toFile(), Map))
    }

    /** The Hugging Face model directory (config.json, model.safetensors, tokenizer files when any). */
    Path getModelDir() { dir.resolve((String) doc.model_dir).normalize() }

    /** The PEFT adapter directory, or null when the case has no adapter. */
    Path getAdapterDir() { doc.adapter_dir == null ? null : dir.resolve((String) doc.adapter_dir).normalize() }

    String getDescription() { doc.description }

    double getTolerance() { doc.tolerance as double }

    boolean isRefusal() { doc.refusal as boolean }

    Map getOutputs() { (Map) doc.outputs }

    List<List<Long>> getInputIdRows() { (List) doc.inputs.input_ids }

    List<List<Integer>> getAttentionMaskRows() { (List) doc.inputs.attention_mask }

    /** (B, T) int64 token ids. */
    NDArray inputIds(NDManager manager) { longs(manager, inputIdRows) }

    /** (B, T) int64, 1 for real tokens and 0 for padding. */
    NDArray attentionMask(NDManager manager) { longs(manager, attentionMaskRows) }

    /** (B, T) int64 positions 0..T-1 in every row: what {@code model(**batch)} uses when no position ids are given. */
    NDArray plainPositionIds(NDManager manager) {
        long b = inputIdRows.size(), t = inputIdRows[0].size()
        manager.arange(0, (int) t, 1, DataType.INT64).reshape(1, t).repeat(0, b)
    }

    /** The labels of the per-row NLL: the input ids, −100 at padding. */
    NDArray labels(NDManager manager) {
        def rows = [inputIdRows, attentionMaskRows].transpose().collect { ids, mask ->
            [ids, mask].transpose().collect { id, m -> m ? id : -100 }
        }
        longs(manager, rows)
    }

    /**
     * The expected array at {@code path} in outputs, e.g. 'logits', 'last_hidden_state',
     * 'logits_at' or 'with_position_ids.logits_at', with its recorded shape.
     */
    NDArray expected(String path, NDManager manager) {
        Map a = (Map) node(path)
        float[] data = ((List<Number>) a.data).collect { it.floatValue() } as float[]
        manager.create(data, new Shape(((List<Number>) a.shape).collect { it.longValue() } as long[]))
    }

    /** The (row, position) pairs of a 'logits_at' entry. */
    List<List<Integer>> positions(String path = 'logits_at') { (List) ((Map) node(path)).positions }

    /** Rows of {@code logits} (B, T, V) at the (row, position) pairs of {@code path}: (N, V). */
    NDArray atPositions(NDArray logits, String path = 'logits_at') {
        NDManager m = logits.manager
        def picks = positions(path).collect { it[0] * logits.shape.get(1) + it[1] } as long[]
        logits.reshape(logits.shape.get(0) * logits.shape.get(1), logits.shape.get(2)).get(m.create(picks))
    }

    List<Double> doubles(String path) { ((List<Number>) node(path)).collect { it.doubleValue() } }

    private Object node(String path) {
        Object n = outputs
        path.split(/\./).each { n = ((Map) n)?.get(it) }
        if (n == null) {
            throw new IllegalArgumentException("fixture '$name' has no output '$path'; it has ${outputs.keySet()}")
        }
        n
    }

    private static NDArray longs(NDManager manager, List<List> rows) {
        manager.create(rows.collect { r -> r.collect { ((Number) it).longValue() } as long[] } as long[][])
    }

    /** The largest absolute difference between two arrays of the same shape, and where it is. */
    static Difference compare(NDArray actual, NDArray expected) {
        if (actual.shape != expected.shape) {
            throw new IllegalArgumentException("shape ${actual.shape} differs from the expected ${expected.shape}")
        }
        float[] a = actual.toType(DataType.FLOAT32, false).toFloatArray()
        float[] e = expected.toType(DataType.FLOAT32, false).toFloatArray()
        int worst = 0
        double max = 0
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - e[i])
            if (!(d <= max)) {  // NaN counts as the worst
                max = d
                worst = i
            }
        }
        new Difference(max, index(worst, expected.shape), a.length ? a[worst] : 0, e.length ? e[worst] : 0)
    }

    /** Largest |actual − expected| of two lists of numbers. */
    static Difference compare(List<? extends Number> actual, List<? extends Number> expected) {
        assert actual.size() == expected.size()
        int worst = 0
        double max = 0
        actual.eachWithIndex { Number x, int i ->
            double d = Math.abs(x.doubleValue() - expected[i].doubleValue())
            if (!(d <= max)) {
                max = d
                worst = i
            }
        }
        new Difference(max, [worst as long], actual[worst].doubleValue(), expected[worst].doubleValue())
    }

    private static List<Long> index(int flat, Shape shape) {
        long rest = flat
        List<Long> idx = []
        for (int d = shape.dimension() - 1; d >= 0; d--) {
            idx.add(0, rest % shape.get(d))
            rest = rest.intdiv(shape.get(d))
        }
        idx
    }

    /** A comparison's result: the largest difference, its index, and both values there. */
    static class Difference {
        final double max
        final List<Long> at
        final double actual
        final double expected

        Difference(double max, List<Long> at, double actual, double expected) {
            this.max = max
            this.at = at
            this.actual = actual
            this.expected = expected
        }

        boolean within(double tolerance) { max <= tolerance }

        @Override
        String toString() { String.format('max |Δ| %.3g at %s (actual %.6g, expected %.6g)', max, at, actual, expected) }
    }
}
