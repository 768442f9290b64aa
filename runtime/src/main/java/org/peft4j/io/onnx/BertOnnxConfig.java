package org.peft4j.io.onnx;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The Hugging Face {@code config.json} of a BERT encoder exported to ONNX. Sizes come from the
 * weight shapes; the head count, which no weight shows, comes from the graph: the Reshape that
 * splits queries into [batch, seq, heads, head_dim], or else the 1/sqrt(head_dim) score scale.
 */
public record BertOnnxConfig(int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize,
                             int vocabSize, int maxPositionEmbeddings, int typeVocabSize) {

    private static final java.util.regex.Pattern LAYER_NAME = java.util.regex.Pattern.compile("encoder\\.layer\\.(\\d{1,4})\\..+");

    private static final String[] EMBEDDINGS = {
        "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
        "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"};

    private static final String[] LAYER = {
        "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
        "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"};

    /** The parameter names a BertModel with {@code layers} layers has (no pooler). */
    public static List<String> parameterNames(int layers) {
        List<String> names = new ArrayList<>(List.of(EMBEDDINGS));
        for (int l = 0; l < layers; l++) {
            for (String m : LAYER) {
                names.add("encoder.layer." + l + "." + m + ".weight");
                names.add("encoder.layer." + l + "." + m + ".bias");
            }
        }
        return names;
    }

    /**
     * Reads the configuration off the named weights and the graph.
     *
     * @throws IllegalArgumentException listing what is missing when the weights are not a BERT encoder
     */
    public static BertOnnxConfig of(OnnxGraph graph, Map<String, HfWeightNames.Weight> weights) {
        TreeSet<Integer> layerIndices = new TreeSet<>();
        for (String n : weights.keySet()) {
            java.util.regex.Matcher m = LAYER_NAME.matcher(n);
            if (m.matches()) {
                layerIndices.add(Integer.parseInt(m.group(1)));
            }
        }
        int layers = layerIndices.isEmpty() ? 0 : layerIndices.last() + 1;
        List<String> missing = new ArrayList<>();
        for (String n : parameterNames(layers)) {
            if (!weights.containsKey(n)) {
                missing.add(n);
            }
        }
        if (layers == 0 || !missing.isEmpty()) {
            throw new IllegalArgumentException("the ONNX model is not a BERT encoder peft4j can import: "
                    + (layers == 0 ? "it has no 'encoder.layer.N.*' weights" : "missing " + missing)
                    + "; found " + weights.keySet());
        }
        long[] words = weights.get("embeddings.word_embeddings.weight").shape();
        int hidden = (int) words[1];
        int heads = attentionHeads(graph, hidden);
        return new BertOnnxConfig(hidden, layers, heads,
                (int) weights.get("encoder.layer.0.intermediate.dense.weight").shape()[0], (int) words[0],
                (int) weights.get("embeddings.position_embeddings.weight").shape()[0],
                (int) weights.get("embeddings.token_type_embeddings.weight").shape()[0]);
    }

    static int attentionHeads(OnnxGraph graph, int hidden) {
        Integer fromReshape = null;
        Integer fromScale = null;
        for (OnnxNode n : graph.nodes()) {
            if (fromReshape == null && n.opType().equals("Reshape")) {
                fromReshape = headsFromShape(graph, n.input(1), hidden);
            }
            if (fromScale == null && (n.opType().equals("Div") || n.opType().equals("Mul"))) {
                fromScale = headsFromScale(graph, n, hidden);
            }
        }
        if (fromReshape != null) {
            return fromReshape;
        }
        if (fromScale != null) {
            return fromScale;
        }
        throw new IllegalArgumentException("cannot find the number of attention heads in the ONNX graph: no Reshape to"
                + " [batch, seq, heads, head_dim] with heads * head_dim = " + hidden
                + " and no 1/sqrt(head_dim) scaling of the attention scores");
    }

    /** The shape vector's last two known entries, when they split {@code hidden} into heads x head_dim. */
    private static Integer headsFromShape(OnnxGraph graph, String shapeValue, int hidden) {
        List<Long> known = new ArrayList<>();
        OnnxTensor direct = graph.constant(shapeValue);
        OnnxNode concat = graph.producer(shapeValue);
        if (direct != null && direct.dataType() == OnnxTensor.INT64) {
            for (long v : direct.longs()) {
                known.add(v);
            }
        } else if (concat != null && concat.opType().equals("Concat")) {
            for (String in : concat.inputs()) {
                OnnxTensor c = graph.constant(in);
                if (c != null && c.dataType() == OnnxTensor.INT64 && c.count() == 1) {
                    known.add(c.longs()[0]);
                } else {
                    known.add(-1L);
                }
            }
        }
        int k = known.size();
        if (k != 4) {
            return null;
        }
        long heads = known.get(2);
        long headDim = known.get(3);
        return heads > 1 && headDim > 0 && heads * headDim == hidden ? (int) heads : null;
    }

    /** Attention scores divided by sqrt(head_dim) (or multiplied by its inverse) right after Q·Kᵀ. */
    private static Integer headsFromScale(OnnxGraph graph, OnnxNode n, int hidden) {
        OnnxNode scores = graph.producer(n.input(0));
        OnnxTensor c = graph.constant(n.input(1));
        if (scores == null || !scores.opType().equals("MatMul") || c == null || c.dataType() != OnnxTensor.FLOAT
                || c.count() != 1 || graph.constant(scores.input(1)) != null) {
            return null;
        }
        double s = c.floats().get(0);
        double headDim = n.opType().equals("Div") ? s * s : 1 / (s * s);
        long d = Math.round(headDim);
        return d > 0 && Math.abs(headDim - d) < 1e-3 * d && hidden % d == 0 && hidden / d > 1 ? (int) (hidden / d) : null;
    }

    /** The config.json content, as Hugging Face's BertConfig writes it. */
    public ObjectNode toJson(ObjectMapper json) {
        ObjectNode c = json.createObjectNode();
        c.put("model_type", "bert");
        c.putArray("architectures").add("BertModel");
        c.put("hidden_size", hiddenSize);
        c.put("num_hidden_layers", numHiddenLayers);
        c.put("num_attention_heads", numAttentionHeads);
        c.put("intermediate_size", intermediateSize);
        c.put("vocab_size", vocabSize);
        c.put("max_position_embeddings", maxPositionEmbeddings);
        c.put("type_vocab_size", typeVocabSize);
        // BERT's published values; the ONNX graph hard-codes them and the weights do not show them
        c.put("layer_norm_eps", 1e-12);
        c.put("hidden_act", "gelu");
        c.put("hidden_dropout_prob", 0.1);
        c.put("attention_probs_dropout_prob", 0.1);
        c.put("initializer_range", 0.02);
        c.put("pad_token_id", 0);
        c.put("position_embedding_type", "absolute");
        c.put("torch_dtype", "float32");
        return c;
    }
}
