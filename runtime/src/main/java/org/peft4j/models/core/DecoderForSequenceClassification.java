package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

/**
 * A decoder's sequence classifier as Transformers computes it ({@code LlamaForSequenceClassification},
 * {@code GPT2ForSequenceClassification} and every family's alike): {@code score} (a Linear without
 * bias) applied to the hidden state of each row's rightmost token whose id is not
 * {@code pad_token_id}. Children: the backbone under the family's name ({@code model},
 * {@code transformer}) and {@code score}.
 *
 * <p>The rule reads the ids, not the attention mask, as Transformers does: a real token equal to the
 * pad token (an EOS used as padding) is skipped, and padding must hold {@code pad_token_id} to be
 * skipped (batches for this model are padded with it). Without a pad token a batch of more than one
 * row is refused, as Transformers refuses it (it cannot tell where a row ends); one row is read at
 * its last position. Positions run 0..T−1 in every row, as a plain Transformers forward uses them.
 */
public final class DecoderForSequenceClassification extends Module implements SequenceClassifier {

    private final String backboneName;
    private final int numLabels;
    private final Integer padTokenId;
    private final String architecture;

    /**
     * @param backboneName the backbone's child name, as the family's Transformers class names it
     * @param backbone     the decoder stack, a {@link DecoderBackbone} module
     * @param padTokenId   config.json's pad_token_id, or null when it has none
     * @param architecture the Transformers class ({@code "LlamaForSequenceClassification"})
     */
    public DecoderForSequenceClassification(NDManager manager, String backboneName, Module backbone, int hiddenSize,
                                            int numLabels, Integer padTokenId, String architecture) {
        if (numLabels < 1) {
            throw new IllegalArgumentException("numLabels = " + numLabels + " must be >= 1");
        }
        if (!(backbone instanceof DecoderBackbone)) {
            throw new IllegalArgumentException(backbone.getClass().getSimpleName() + " is not a decoder backbone");
        }
        this.backboneName = backboneName;
        this.numLabels = numLabels;
        this.padTokenId = padTokenId;
        this.architecture = architecture;
        addChild(backboneName, backbone);
        addChild("score", new Linear(manager, hiddenSize, numLabels, false));
    }

    public DecoderBackbone backbone() {
        return (DecoderBackbone) child(backboneName);
    }

    /** The score layer, for a new head's starting weights. */
    public Linear score() {
        return (Linear) child("score");
    }

    /** config.json's pad_token_id, or null. */
    public Integer padTokenId() {
        return padTokenId;
    }

    @Override
    public int numLabels() {
        return numLabels;
    }

    @Override
    public String architecture() {
        return architecture;
    }

    /** Decoders have no segments; {@code tokenTypeIds} is ignored. */
    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        long b = inputIds.getShape().get(0);
        long t = inputIds.getShape().get(1);
        if (padTokenId == null && b > 1) {
            throw new IllegalArgumentException("config.json has no pad_token_id, so the classifier cannot tell where"
                    + " each of the " + b + " padded rows ends (Transformers refuses batches > 1 alike); set"
                    + " pad_token_id in config.json to the tokenizer's padding token, or classify one text at a time");
        }
        NDManager m = inputIds.getManager();
        NDArray positions = m.arange(0, (int) t, 1, DataType.INT64).reshape(1, t).repeat(0, b);   // (B, T)
        NDArray hidden = backbone().forward(inputIds, attentionMask, positions, null);            // (B, T, H)
        long h = hidden.getShape().get(2);
        NDArray last = lastTokens(inputIds).reshape(b, 1, 1).repeat(2, h);                         // (B, 1, H)
        NDArray picked = hidden.gather(last, 1).reshape(b, h);                                     // (B, H)
        return linear("score").forward(picked);                                                   // (B, numLabels)
    }

    /**
     * Each row's rightmost position whose id is not the pad token: argmax(j · [id_j ≠ pad]), 0 for a
     * row without one (as Transformers); T − 1 without a pad token.
     *
     * @return (B) int64
     */
    NDArray lastTokens(NDArray inputIds) {
        long b = inputIds.getShape().get(0);
        long t = inputIds.getShape().get(1);
        NDManager m = inputIds.getManager();
        if (padTokenId == null) {
            return m.full(new Shape(b), (int) (t - 1)).toType(DataType.INT64, false);
        }
        NDArray real = inputIds.neq(padTokenId);                                                   // (B, T) bool
        NDArray index = m.arange(0, (int) t, 1, DataType.INT64).reshape(1, t);                     // (1, T)
        return real.toType(DataType.INT64, false).mul(index).argMax(1);                            // (B)
    }
}
