package org.peft4j.models.roberta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.models.WeightLoader;
import org.peft4j.models.bert.BertConfig;
import org.peft4j.models.bert.BertEncoder;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Backend;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The RoBERTa / XLM-RoBERTa encoder with Hugging Face names ({@code embeddings.*},
 * {@code encoder.layer.N.*}). The encoder stack is BERT's unchanged; only the embeddings differ
 * (see {@link RobertaEmbeddings}). Returns the last hidden state.
 */
public final class RobertaModel extends Module {

    /** The {@code model_type} values this loader accepts. */
    public static final List<String> MODEL_TYPES = List.of("roberta", "xlm-roberta");

    private final BertConfig config;

    public RobertaModel(NDManager manager, BertConfig config) {
        if (config.maxPositionEmbeddings() <= config.padTokenId() + 1) {
            throw new IllegalArgumentException("max_position_embeddings = " + config.maxPositionEmbeddings()
                    + " leaves no position after the padding offset pad_token_id + 1 = " + (config.padTokenId() + 1));
        }
        this.config = config;
        addChild("embeddings", new RobertaEmbeddings(manager, config));
        addChild("encoder", new BertEncoder(manager, config));
    }

    public BertConfig config() {
        return config;
    }

    /** Longest input: positions start at pad + 1, so {@code max_position_embeddings - pad - 1} (512 for roberta-base). */
    public int maxLength() {
        return config.maxPositionEmbeddings() - config.padTokenId() - 1;
    }

    /**
     * Loads an unmodified Hugging Face RoBERTa directory: bare {@code RobertaModel} names or
     * {@code roberta.}-prefixed ones (from a task model, whose heads are ignored).
     */
    public static RobertaModel fromPretrained(Path dir) throws IOException {
        BertConfig config = BertConfig.read(WeightLoader.requireFile(dir, "config.json", "the model configuration"),
                MODEL_TYPES);
        Path weights = WeightLoader.requireFile(dir, "model.safetensors", "the weights (model.safetensors)");
        NDManager manager = Backend.get().manager();
        RobertaModel model = new RobertaModel(manager, config);
        WeightLoader.load(model, weights, RobertaModel::checkpointToPath, path -> false, manager);
        return model;
    }

    /** Checkpoint name to parameter path, or null for tensors a bare encoder does not use. */
    static String checkpointToPath(String name) {
        String n = name.startsWith("roberta.") ? name.substring("roberta.".length()) : name;
        // the pooler, task heads and the position/type-id buffers are not encoder weights
        if (n.startsWith("pooler.") || n.startsWith("lm_head.") || n.startsWith("classifier.")
                || n.equals("embeddings.position_ids") || n.equals("embeddings.token_type_ids")) {
            return null;
        }
        return n;
    }

    /**
     * @param inputIds      (B, T) token ids, padded with pad_token_id
     * @param attentionMask (B, T) 1 for real tokens, 0 for padding; null when nothing is padded
     * @param tokenTypeIds  (B, T) or null
     * @return (B, T, H) the last hidden state
     */
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        Shape shape = inputIds.getShape();
        if (shape.dimension() != 2) {
            throw new IllegalArgumentException("inputIds must be (batch, length), got shape " + shape);
        }
        if (shape.get(1) > maxLength()) {
            throw new IllegalArgumentException("sequence length " + shape.get(1) + " exceeds " + maxLength()
                    + " (max_position_embeddings - pad_token_id - 1); truncate the input (data maxLength)");
        }
        NDArray x = ((RobertaEmbeddings) child("embeddings")).forward(inputIds, tokenTypeIds);   // (B, T, H)
        NDArray keysMask = null;
        if (attentionMask != null) {
            // (B, T) 1/0 -> (B, 1, 1, T) 0/lowest, as BertModel: exact zeros after softmax, no NaN
            keysMask = attentionMask.toType(x.getDataType(), false).reshape(shape.get(0), 1, 1, shape.get(1))
                    .sub(1).mul(x.getDataType() == DataType.FLOAT16 ? 65504.0 : Float.MAX_VALUE);
        }
        return ((BertEncoder) child("encoder")).forward(x, keysMask,
                child("embeddings").trainableParameterCount() > 0);
    }
}
