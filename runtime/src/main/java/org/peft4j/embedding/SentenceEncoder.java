package org.peft4j.embedding;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.peft4j.models.Pooling;
import org.peft4j.models.WeightLoader;
import org.peft4j.models.bert.BertModel;
import org.peft4j.models.roberta.RobertaModel;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Precision;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A transformer encoder turned into a sentence-vector function: token states pooled (mean or CLS)
 * and L2-normalised, so a dot product of two vectors is their cosine similarity.
 */
public final class SentenceEncoder {

    /** The encoder's forward pass: (ids, mask, types), each (B, T), to token states (B, T, H). */
    @FunctionalInterface
    public interface TokenStates {
        NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds);
    }

    private final Module model;
    private final TokenStates states;
    private final PoolingMode pooling;
    private final int maxLength;

    public SentenceEncoder(Module model, TokenStates states, PoolingMode pooling, int maxLength) {
        this.model = model;
        this.states = states;
        this.pooling = pooling;
        this.maxLength = maxLength;
    }

    public static SentenceEncoder of(BertModel bert, PoolingMode pooling) {
        return new SentenceEncoder(bert, bert::forward, pooling, bert.config().maxPositionEmbeddings());
    }

    public static SentenceEncoder of(RobertaModel roberta, PoolingMode pooling) {
        return new SentenceEncoder(roberta, roberta::forward, pooling, roberta.maxLength());
    }

    /**
     * Loads a Hugging Face directory: {@code model_type} "bert" as {@link BertModel}, "roberta" or
     * "xlm-roberta" as {@link RobertaModel}.
     */
    public static SentenceEncoder load(Path dir, PoolingMode pooling) throws IOException {
        Path config = WeightLoader.requireFile(dir, "config.json", "the model configuration");
        var type = new ObjectMapper().readTree(Files.readString(config)).path("model_type");
        String modelType = type.isTextual() ? type.textValue() : "bert";
        if (RobertaModel.MODEL_TYPES.contains(modelType)) {
            return of(RobertaModel.fromPretrained(dir), pooling);
        }
        return of(BertModel.fromPretrained(dir), pooling);
    }

    /** The module tree (adapters are injected here; its parameter paths are the checkpoint's). */
    public Module model() {
        return model;
    }

    public PoolingMode pooling() {
        return pooling;
    }

    /** The longest input the model's positions cover. */
    public int maxLength() {
        return maxLength;
    }

    /**
     * @return (B, H) unit-length sentence vectors; with dropout on (training mode) two calls on the
     *         same input give two different views, which is all unsupervised SimCSE needs
     */
    public NDArray encode(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        NDArray hidden = states.forward(inputIds, attentionMask, tokenTypeIds);            // (B, T, H)
        NDArray pooled = pooling == PoolingMode.CLS
                ? Precision.float32(hidden.get(new NDIndex(":, 0, :")))                     // (B, H)
                : Pooling.meanPool(hidden, attentionMask);                                  // (B, H)
        // x / max(‖x‖₂, ε), as torch.nn.functional.normalize
        return pooled.normalize(2, 1, 1e-12);
    }
}
