package org.peft4j.embedding;

import org.peft4j.tensor.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * InfoNCE with in-batch negatives (van den Oord et al. 2018; as used for sentence embeddings by
 * SimCSE, Gao et al. 2021, Eq. 1 and Eq. 5):
 * <pre>
 *   ℓᵢ = −log( exp(sim(aᵢ, pᵢ)/τ) / Σⱼ exp(sim(aᵢ, cⱼ)/τ) )
 * </pre>
 * where the candidates cⱼ are all B positives of the batch (the other rows' positives are the
 * negatives) followed by the hard negatives, if any. With unit vectors sim is the dot product, so
 * the logits are one (B, B + N) matmul and the loss is cross-entropy with targets on the diagonal.
 */
public final class InfoNceLoss {

    private InfoNceLoss() {
    }

    /**
     * @param anchors       (B, H) unit vectors
     * @param positives     (B, H) unit vectors; row i belongs with anchor i
     * @param hardNegatives (N, H) unit vectors appended as extra columns, or null
     * @param temperature   τ &gt; 0 (0.05 in SimCSE)
     * @return the scalar mean of ℓᵢ over the batch
     */
    public static NDArray loss(NDArray anchors, NDArray positives, NDArray hardNegatives, double temperature) {
        NDArray logits = logits(anchors, positives, hardNegatives, temperature);               // (B, B + N)
        long b = anchors.getShape().get(0);
        NDArray targets = anchors.getManager().arange(0, (int) b, 1, DataType.INT64).reshape(b, 1);
        return logits.logSoftmax(1).gather(targets, 1).neg().mean();
    }

    /** sim(aᵢ, cⱼ) / τ over all candidates: (B, B + N). */
    public static NDArray logits(NDArray anchors, NDArray positives, NDArray hardNegatives, double temperature) {
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("temperature = " + temperature + " must be > 0");
        }
        NDArray candidates = hardNegatives == null ? positives : positives.concat(hardNegatives, 0);  // (B + N, H)
        return Scalars.div(anchors.matMul(candidates.transpose()), temperature);
    }
}
