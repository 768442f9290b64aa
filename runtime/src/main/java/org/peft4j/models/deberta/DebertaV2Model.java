package org.peft4j.models.deberta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.peft4j.models.core.EncoderInputs;
import org.peft4j.models.core.Masks;
import org.peft4j.models.core.Task;
import org.peft4j.models.core.TokenEncoder;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The DeBERTa-v2 / DeBERTa-v3 encoder (He et al. 2021) with Hugging Face names: {@code embeddings.*},
 * {@code encoder.layer.N.*}, {@code encoder.rel_embeddings}. A padding token neither attends nor is
 * attended to (Transformers' mask is the product of the query's and the key's). Returns the last
 * hidden state.
 */
public final class DebertaV2Model extends Module implements TokenEncoder {

    private final DebertaV2Config config;

    /** A model with placeholder weights. */
    public DebertaV2Model(NDManager manager, DebertaV2Config config) {
        this.config = config;
        addChild("embeddings", new DebertaV2Embeddings(manager, config));
        addChild("encoder", new DebertaV2Encoder(manager, config));
    }

    /** Loads a Hugging Face directory (a bare DebertaV2Model or a task model's {@code deberta.}-prefixed weights). */
    public static DebertaV2Model fromPretrained(Path dir) throws IOException {
        return (DebertaV2Model) DebertaV2Family.INSTANCE.load(dir, Task.ENCODER);
    }

    public DebertaV2Config config() {
        return config;
    }

    @Override
    public int maxLength() {
        return config.maxPositionEmbeddings();
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        long t = EncoderInputs.check(inputIds, attentionMask, tokenTypeIds, config.maxPositionEmbeddings());
        NDManager m = inputIds.getManager();
        DebertaV2Embeddings embeddings = (DebertaV2Embeddings) child("embeddings");
        NDArray x = embeddings.forward(inputIds, attentionMask, tokenTypeIds);              // (B, T, H)
        NDArray mask = attentionMask == null ? null : pairMask(attentionMask);              // (B, 1, T, T)
        NDArray index = config.relativeAttention() ? RelativePositions.index(m, t, config.positionBuckets(),
                config.maxRelativeDistance(), config.attentionSpan()) : null;                // (T, T)
        return ((DebertaV2Encoder) child("encoder")).forward(x, mask, index,
                embeddings.trainableParameterCount() > 0);                                  // (B, T, H)
    }

    /** Query i may attend to key j when both are real tokens: (m_i · m_j − 1) · max, (B, 1, T, T). */
    private static NDArray pairMask(NDArray attentionMask) {
        long b = attentionMask.getShape().get(0);
        long t = attentionMask.getShape().get(1);
        NDArray m = attentionMask.toType(DataType.FLOAT32, false);
        NDArray both = m.reshape(b, 1, t, 1).mul(m.reshape(b, 1, 1, t));                    // (B, 1, T, T)
        return both.sub(1).mul(Masks.lowest(DataType.FLOAT32));
    }
}
