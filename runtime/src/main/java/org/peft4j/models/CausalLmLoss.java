package org.peft4j.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import org.peft4j.data.CausalLmDataset;
import org.peft4j.tensor.Precision;

/**
 * Next-token cross-entropy, as HF's causal LM loss: the logits at position t are scored against
 * the label at t + 1, positions whose label is {@link #IGNORE} (−100: prompt, padding) carry no
 * loss, and the mean is over the scored positions of the whole batch.
 */
public final class CausalLmLoss {

    /** The label of a position that is not learned. */
    public static final int IGNORE = CausalLmDataset.IGNORE;

    private CausalLmLoss() {
    }

    /**
     * @param logits (B, T, V)
     * @param labels (B, T) int64 token ids, {@link #IGNORE} where nothing is learned; not shifted
     * @return scalar mean −log p(label), 0 when no position is scored
     */
    public static NDArray loss(NDArray logits, NDArray labels) {
        logits = Precision.float32(logits);
        long b = labels.getShape().get(0);
        // shift the labels rather than the logits: a (B, T) copy instead of a (B, T−1, V) one
        NDArray next = labels.get(":, 1:")
                .concat(labels.getManager().full(new ai.djl.ndarray.types.Shape(b, 1), IGNORE, DataType.INT64), 1);
        NDArray scored = next.neq(IGNORE).toType(logits.getDataType(), false);          // (B, T) 1/0
        NDArray target = next.maximum(0).toType(DataType.INT64, false).expandDims(-1);  // (B, T, 1)
        NDArray logp = logits.logSoftmax(-1).gather(target, -1).squeeze(-1);            // (B, T)
        return logp.mul(scored).sum().neg().div(scored.sum().maximum(1));
    }

    /** exp of a mean next-token loss (in nats). */
    public static double perplexity(double meanLoss) {
        return Math.exp(meanLoss);
    }
}
