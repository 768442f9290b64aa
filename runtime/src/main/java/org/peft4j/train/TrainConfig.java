package org.peft4j.train;

import java.util.ArrayList;
import java.util.List;

/**
 * How long and how to train.
 *
 * @param epochs         passes over the training data
 * @param batchSize      examples per forward pass
 * @param gradAccum      forward passes accumulated into one optimizer step
 * @param clipNorm       global gradient-norm clip (0: off)
 * @param seed           seeds data order, initialisation and dropout
 * @param evalEvery      evaluate on the validation set every N optimizer steps (0: only at the end)
 * @param maxSteps       stop after this many optimizer steps (0: no limit)
 * @param evalBatchSize  examples per forward pass in evaluation
 */
public record TrainConfig(int epochs, int batchSize, int gradAccum, double clipNorm, long seed, int evalEvery,
                          int maxSteps, int evalBatchSize) {

    public static TrainConfig defaults() {
        return new TrainConfig(1, 16, 1, 1.0, 42, 0, 0, 64);
    }

    public List<String> validate() {
        List<String> p = new ArrayList<>();
        if (epochs < 1) {
            p.add("train.epochs = " + epochs + " must be >= 1");
        }
        if (batchSize < 1) {
            p.add("train.batchSize = " + batchSize + " must be >= 1");
        }
        if (gradAccum < 1) {
            p.add("train.gradAccum = " + gradAccum + " must be >= 1 (1: no accumulation)");
        }
        if (!(clipNorm >= 0)) {
            p.add("train.clipNorm = " + clipNorm + " must be >= 0 (0 turns clipping off)");
        }
        if (evalEvery < 0) {
            p.add("train.evalEvery = " + evalEvery + " must be >= 0 (0: evaluate at the end only)");
        }
        if (maxSteps < 0) {
            p.add("train.maxSteps = " + maxSteps + " must be >= 0 (0: no limit)");
        }
        if (evalBatchSize < 1) {
            p.add("train.evalBatchSize = " + evalBatchSize + " must be >= 1");
        }
        return p;
    }
}
