package org.peft4j.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

import java.util.Random;

/**
 * Picks the next token from one position's logits: argmax, or a draw from
 * softmax(logits / temperature) restricted by top-k and top-p. The draw is inverse-CDF with one
 * uniform number from a seeded {@link Random}, so it is reproducible and needs no loop over the
 * vocabulary in Java.
 */
final class Sampler {

    private final GenerationConfig config;
    private final Random random;

    Sampler(GenerationConfig config) {
        this.config = config;
        this.random = new Random(config.seed());
    }

    /** @param logits (V) @return the chosen id */
    int next(NDArray logits) {
        if (config.greedyDecoding()) {
            return (int) logits.argMax().getLong();
        }
        long v = logits.getShape().get(0);
        NDArray scaled = logits.toType(DataType.FLOAT32, false).div(config.temperature());
        if (config.topK() > 0 && config.topK() < v) {
            // the k-th largest logit is the bar; everything below it is removed
            float kth = scaled.topK(config.topK(), 0, true, true).get(0).getFloat(config.topK() - 1);
            scaled = scaled.lt(kth).toType(DataType.FLOAT32, false).mul(-1e30f).add(scaled);
        }
        NDArray probs = scaled.softmax(0);                                         // (V)
        if (config.topP() < 1) {
            NDArray order = probs.argSort(0, false);                               // most likely first
            NDArray sorted = probs.gather(order, 0);                                     // (V) descending
            // keep a token while the mass before it is below p: the smallest set reaching p
            NDArray before = sorted.cumSum(0).sub(sorted);
            long kept = Math.max(1, before.lt(config.topP()).sum().toType(DataType.INT64, false).getLong());
            float bar = sorted.getFloat(kept - 1);
            probs = probs.mul(probs.gte(bar).toType(DataType.FLOAT32, false));
        }
        NDArray cdf = probs.cumSum(0);                                             // (V), unnormalised
        double u = random.nextDouble() * cdf.getFloat(v - 1);
        long index = cdf.lte((float) u).sum().toType(DataType.INT64, false).getLong();
        return (int) Math.min(index, v - 1);
    }
}
