package org.peft4j.embedding;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import org.peft4j.models.Registry;
import org.peft4j.models.core.Pooling;
import org.peft4j.models.core.Task;
import org.peft4j.models.core.TokenEncoder;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Precision;

import java.io.IOException;
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

    /** An encoder model (a Module) with its pooling. */
    public static SentenceEncoder of(TokenEncoder encoder, PoolingMode pooling) {
        return new SentenceEncoder((Module) encoder, encoder::forward, pooling, encoder.maxLength());
    }

    /** Loads the encoder of a Hugging Face directory of any family that builds one (BERT, RoBERTa, XLM-R, ModernBERT, DeBERTa-v2). */
    public static SentenceEncoder load(Path dir, PoolingMode pooling) throws IOException {
        return of(Registry.load(dir, Task.ENCODER), pooling);
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
