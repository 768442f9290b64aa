package org.peft4j.models.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.models.WeightLoader;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Backend;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The BERT encoder (Devlin et al. 2019) with Hugging Face parameter names: {@code embeddings.*}
 * and {@code encoder.layer.N.*}. Returns the last hidden state; task heads sit on top.
 */
public final class BertModel extends Module {

    private final BertConfig config;

    /** A model with placeholder weights (zeros, LayerNorms at identity); load real ones with {@link #fromPretrained}. */
    public BertModel(NDManager manager, BertConfig config) {
        this.config = config;
        addChild("embeddings", new BertEmbeddings(manager, config));
        addChild("encoder", new BertEncoder(manager, config));
    }

    public BertConfig config() {
        return config;
    }

    /**
     * Loads {@code config.json} and {@code model.safetensors} from a Hugging Face directory. Accepts
     * plain BertModel checkpoints and {@code bert.}-prefixed ones (from a task model); the pooler and
     * the position-id buffer are not used.
     */
    public static BertModel fromPretrained(Path dir) throws IOException {
        BertConfig config = BertConfig.read(WeightLoader.requireFile(dir, "config.json", "the model configuration"));
        Path weights = WeightLoader.requireFile(dir, "model.safetensors", "the weights (model.safetensors)");
        NDManager manager = Backend.get().manager();
        BertModel model = new BertModel(manager, config);
        WeightLoader.load(model, weights, name -> checkpointToPath(name, ""), path -> false, manager);
        return model;
    }

    /**
     * Maps a checkpoint name onto this encoder's path under {@code prefix} ("" for a bare encoder,
     * "bert." inside a task model), or null for tensors BERT checkpoints carry that we do not use.
     */
    static String checkpointToPath(String name, String prefix) {
        String n = name.startsWith("bert.") ? name.substring("bert.".length()) : name;
        // the CLS pooler is not used (we mean-pool); position_ids is a buffer, not a weight
        if (n.startsWith("pooler.") || n.equals("embeddings.position_ids")) {
            return null;
        }
        return prefix + n;
    }

    /**
     * @param inputIds      (B, T) token ids (int64 or int32)
     * @param attentionMask (B, T), 1 for real tokens and 0 for padding; null when nothing is padded
     * @param tokenTypeIds  (B, T) segment ids, or null for all zeros
     * @return (B, T, H) the last hidden state
     */
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        Shape shape = inputIds.getShape();
        if (shape.dimension() != 2) {
            throw new IllegalArgumentException("inputIds must be (batch, length), got shape " + shape);
        }
        if (shape.get(1) > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence length " + shape.get(1) + " exceeds max_position_embeddings = "
                    + config.maxPositionEmbeddings() + "; truncate the input (data maxLength)");
        }
        requireSameShape("attentionMask", attentionMask, shape);
        requireSameShape("tokenTypeIds", tokenTypeIds, shape);

        NDArray x = ((BertEmbeddings) child("embeddings")).forward(inputIds, tokenTypeIds);   // (B, T, H)
        NDArray keysMask = attentionMask == null ? null : additiveMask(attentionMask, x.getDataType());
        return ((BertEncoder) child("encoder")).forward(x, keysMask,
                child("embeddings").trainableParameterCount() > 0);                         // (B, T, H)
    }

    /**
     * (B, T) of 1/0 -> (B, 1, 1, T) of 0/lowest, built once per forward and broadcast over heads and
     * queries. The most negative finite value, as HF uses, turns into an exact zero after softmax
     * without the NaN an infinity would give on a fully padded row.
     */
    static NDArray additiveMask(NDArray attentionMask, DataType dtype) {
        long b = attentionMask.getShape().get(0);
        long t = attentionMask.getShape().get(1);
        double lowest = dtype == DataType.FLOAT16 ? 65504.0 : Float.MAX_VALUE;
        return attentionMask.toType(dtype, false).reshape(b, 1, 1, t).sub(1).mul(lowest);  // (m - 1) * max
    }

    private static void requireSameShape(String what, NDArray a, Shape expected) {
        if (a != null && !a.getShape().equals(expected)) {
            throw new IllegalArgumentException(what + " has shape " + a.getShape() + " but inputIds has " + expected);
        }
    }
}
