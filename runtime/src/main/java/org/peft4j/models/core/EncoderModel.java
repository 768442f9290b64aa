package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.Module;

/**
 * An encoder in BERT's layout with Hugging Face parameter names: {@code embeddings.*},
 * {@code encoder.layer.N.*} and, when built with one, {@code pooler.dense.*}. Returns the last
 * hidden state; {@link #pooled} gives the pooler's output, task heads sit on top. Families differ
 * only in how positions are counted ({@link BertEmbeddings}).
 */
public class EncoderModel extends Module implements TokenEncoder {

    private final BertConfig config;
    private final int maxLength;

    /** A model without a pooler, with placeholder weights (zeros, LayerNorms at identity). */
    protected EncoderModel(NDManager manager, BertConfig config, boolean paddingOffset) {
        this(manager, config, paddingOffset, false);
    }

    /** A model with placeholder weights, with a pooler ({@link BertPooler}) when {@code pooler}. */
    protected EncoderModel(NDManager manager, BertConfig config, boolean paddingOffset, boolean pooler) {
        BertEmbeddings embeddings = new BertEmbeddings(manager, config, paddingOffset);
        this.config = config;
        this.maxLength = embeddings.maxLength(config);
        if (maxLength <= 0) {
            throw new IllegalArgumentException("max_position_embeddings = " + config.maxPositionEmbeddings()
                    + " leaves no position after the padding offset pad_token_id + 1 = " + (config.padTokenId() + 1));
        }
        addChild("embeddings", embeddings);
        addChild("encoder", new BertEncoder(manager, config));
        if (pooler) {
            addChild("pooler", new BertPooler(manager, config.hiddenSize()));
        }
    }

    /** Whether this encoder has a pooler. */
    public boolean hasPooler() {
        return children().containsKey("pooler");
    }

    /** The pooler; only when {@link #hasPooler()}. */
    public BertPooler pooler() {
        return (BertPooler) child("pooler");
    }

    /**
     * The pooler's output for the last hidden state {@code hidden} (B, T, H): (B, H), as Transformers'
     * {@code pooler_output}.
     */
    public NDArray pooled(NDArray hidden) {
        return pooler().forward(hidden);
    }

    public BertConfig config() {
        return config;
    }

    @Override
    public int maxLength() {
        return maxLength;
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        Shape shape = inputIds.getShape();
        if (shape.dimension() != 2) {
            throw new IllegalArgumentException("inputIds must be (batch, length), got shape " + shape);
        }
        if (shape.get(1) > maxLength) {
            throw new IllegalArgumentException("sequence length " + shape.get(1) + " exceeds " + maxLength
                    + (maxLength == config.maxPositionEmbeddings() ? " (max_position_embeddings)"
                    : " (max_position_embeddings - pad_token_id - 1)") + "; truncate the input (data maxLength)");
        }
        requireSameShape("attentionMask", attentionMask, shape);
        requireSameShape("tokenTypeIds", tokenTypeIds, shape);

        NDArray x = ((BertEmbeddings) child("embeddings")).forward(inputIds, tokenTypeIds);   // (B, T, H)
        NDArray keysMask = attentionMask == null ? null : Masks.padding(attentionMask, x.getDataType());
        return ((BertEncoder) child("encoder")).forward(x, keysMask,
                child("embeddings").trainableParameterCount() > 0);                         // (B, T, H)
    }

    private static void requireSameShape(String what, NDArray a, Shape expected) {
        if (a != null && !a.getShape().equals(expected)) {
            throw new IllegalArgumentException(what + " has shape " + a.getShape() + " but inputIds has " + expected);
        }
    }
}
