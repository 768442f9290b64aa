package org.peft4j.embedding;

import ai.djl.ndarray.NDArray;
import org.peft4j.data.Batch;
import org.peft4j.data.PairBatches;
import org.peft4j.train.TrainingObjective;

import java.util.List;

/**
 * The training loss of a sentence-embedding run over packed pair batches ({@link PairBatches}):
 * InfoNCE on (anchor, positive[, negative]), unsupervised SimCSE on sentences, or cosine regression
 * on scored pairs. Each column is encoded in its own forward pass at its own width.
 */
public final class EmbeddingObjective implements TrainingObjective<Batch> {

    private final SentenceEncoder encoder;
    private final LossKind kind;
    private final double temperature;

    public EmbeddingObjective(SentenceEncoder encoder, LossKind kind, double temperature) {
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("temperature = " + temperature + " must be > 0 (SimCSE uses 0.05)");
        }
        this.encoder = encoder;
        this.kind = kind;
        this.temperature = temperature;
    }

    @Override
    public NDArray loss(Batch batch) {
        List<PairBatches.Column> columns = PairBatches.unpack(batch);
        switch (kind) {
            case INFONCE: {
                require(columns, 2, 3, "(anchor, positive[, negative]) pairs");
                NDArray anchors = encode(columns.get(0));
                NDArray positives = encode(columns.get(1));
                NDArray negatives = columns.size() == 3 ? encode(columns.get(2)) : null;
                return InfoNceLoss.loss(anchors, positives, negatives, temperature);
            }
            case SIMCSE: {
                require(columns, 1, 1, "sentences");
                // Gao et al. 2021, Eq. 1 with h⁺ = the same sentence under another dropout mask: two
                // forward passes in training mode; the other view of row i is its positive.
                NDArray view1 = encode(columns.get(0));
                NDArray view2 = encode(columns.get(0));
                return InfoNceLoss.loss(view1, view2, null, temperature);
            }
            case COSINE: {
                require(columns, 2, 2, "scored (a, b) pairs");
                return CosineRegressionLoss.loss(encode(columns.get(0)), encode(columns.get(1)), batch.labels());
            }
            default:
                throw new IllegalStateException(kind.toString());
        }
    }

    private NDArray encode(PairBatches.Column c) {
        return encoder.encode(c.inputIds(), c.attentionMask(), c.tokenTypeIds());
    }

    private void require(List<PairBatches.Column> columns, int min, int max, String what) {
        if (columns.size() < min || columns.size() > max) {
            throw new IllegalArgumentException("loss " + kind + " trains on " + what + " but the batch has "
                    + columns.size() + " text column(s)");
        }
    }
}
