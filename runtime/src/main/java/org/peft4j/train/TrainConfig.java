package org.peft4j.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * How long and how to train.
 *
 * @param epochs           passes over the training data
 * @param batchSize        examples per forward pass
 * @param gradAccum        forward passes accumulated into one optimizer step
 * @param clipNorm         global gradient-norm clip (0: off)
 * @param seed             seeds data order, initialisation and dropout
 * @param evalEvery        evaluate on the validation set every N optimizer steps (0: only at the end)
 * @param maxSteps         stop after this many optimizer steps (0: no limit)
 * @param evalBatchSize    examples per forward pass in evaluation
 * @param checkpointEvery  write a checkpoint every N optimizer steps (0: only at the end of training)
 * @param keepCheckpoints  how many of the newest checkpoints to keep (the best one is kept besides)
 * @param bestMetric       the evaluation metric that picks the best checkpoint, as "split.metric",
 *                         e.g. "valid.f1" (null: no best checkpoint, no early stopping)
 * @param bestMode         whether a larger (MAX) or smaller (MIN) {@code bestMetric} is better
 * @param patience         early stopping: stop after this many evaluations in a row without a new
 *                         best (0: never stop early)
 * @param activationCheckpointing keep only each layer's input during the forward pass and re-run the
 *                         layer in backward (less memory for about one more forward pass of compute)
 */
public record TrainConfig(int epochs, int batchSize, int gradAccum, double clipNorm, long seed, int evalEvery,
                          int maxSteps, int evalBatchSize, int checkpointEvery, int keepCheckpoints,
                          String bestMetric, MetricMode bestMode, int patience, boolean activationCheckpointing) {

    /** Metric names an evaluation reports, for validating {@code bestMetric}. */
    public static final Set<String> METRICS = Set.of("accuracy", "precision", "recall", "f1", "loss");

    /** The settings before checkpoints existed: a checkpoint at the end only, the last one kept. */
    public TrainConfig(int epochs, int batchSize, int gradAccum, double clipNorm, long seed, int evalEvery,
                       int maxSteps, int evalBatchSize) {
        this(epochs, batchSize, gradAccum, clipNorm, seed, evalEvery, maxSteps, evalBatchSize, 0, 1, null, null, 0);
    }

    /** Without activation checkpointing. */
    public TrainConfig(int epochs, int batchSize, int gradAccum, double clipNorm, long seed, int evalEvery,
                       int maxSteps, int evalBatchSize, int checkpointEvery, int keepCheckpoints,
                       String bestMetric, MetricMode bestMode, int patience) {
        this(epochs, batchSize, gradAccum, clipNorm, seed, evalEvery, maxSteps, evalBatchSize, checkpointEvery,
                keepCheckpoints, bestMetric, bestMode, patience, false);
    }

    /** A copy that checkpoints activations (re-runs each layer in backward) or not. */
    public TrainConfig withActivationCheckpointing(boolean on) {
        return new TrainConfig(epochs, batchSize, gradAccum, clipNorm, seed, evalEvery, maxSteps, evalBatchSize,
                checkpointEvery, keepCheckpoints, bestMetric, bestMode, patience, on);
    }

    public static TrainConfig defaults() {
        return new TrainConfig(1, 16, 1, 1.0, 42, 0, 0, 64);
    }

    /** A copy that checkpoints every {@code every} steps and keeps the newest {@code keep}. */
    public TrainConfig withCheckpoints(int every, int keep) {
        return new TrainConfig(epochs, batchSize, gradAccum, clipNorm, seed, evalEvery, maxSteps, evalBatchSize,
                every, keep, bestMetric, bestMode, patience, activationCheckpointing);
    }

    /** A copy that keeps the best checkpoint by {@code metric} ("valid.f1"), larger or smaller being better. */
    public TrainConfig withBest(String metric, MetricMode mode) {
        return new TrainConfig(epochs, batchSize, gradAccum, clipNorm, seed, evalEvery, maxSteps, evalBatchSize,
                checkpointEvery, keepCheckpoints, metric, mode, patience, activationCheckpointing);
    }

    /** A copy that stops after {@code evals} evaluations without a new best. */
    public TrainConfig withEarlyStopping(int evals) {
        return new TrainConfig(epochs, batchSize, gradAccum, clipNorm, seed, evalEvery, maxSteps, evalBatchSize,
                checkpointEvery, keepCheckpoints, bestMetric, bestMode, evals, activationCheckpointing);
    }

    /** A copy with another step limit and no evaluation, as a benchmark wants. */
    public TrainConfig withMaxSteps(int steps, int epochsToCover) {
        return new TrainConfig(epochsToCover, batchSize, gradAccum, clipNorm, seed, 0, steps, evalBatchSize,
                checkpointEvery, keepCheckpoints, null, null, 0, activationCheckpointing);
    }

    /** {@code bestMode}, or the usual direction of {@code bestMetric} when none was given. */
    public MetricMode mode() {
        return bestMode != null ? bestMode : MetricMode.defaultFor(bestMetric);
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
        if (checkpointEvery < 0) {
            p.add("train.checkpointEvery = " + checkpointEvery + " must be >= 0 (0: one checkpoint at the end)");
        }
        if (keepCheckpoints < 1) {
            p.add("train.keepCheckpoints = " + keepCheckpoints + " must be >= 1 (the newest is always needed to resume)");
        }
        if (bestMetric != null) {
            String[] parts = bestMetric.split("\\.", -1);
            if (parts.length != 2 || !parts[0].equals("valid") || !METRICS.contains(parts[1])) {
                p.add("train.bestMetric = '" + bestMetric + "' must be 'valid.<metric>' with a metric of "
                        + new java.util.TreeSet<>(METRICS) + ", e.g. 'valid.f1'");
            }
            if (evalEvery < 1) {
                p.add("train.bestMetric = '" + bestMetric + "' needs evaluations during training: set evalEvery"
                        + " to a step count, e.g. evalEvery 50");
            }
        }
        if (patience < 0) {
            p.add("train.earlyStopping patience = " + patience + " must be >= 0 (0: never stop early)");
        } else if (patience > 0 && bestMetric == null) {
            p.add("train.earlyStopping patience = " + patience + " needs a metric to watch: set bestMetric,"
                    + " e.g. bestMetric 'valid.f1'");
        }
        return p;
    }
}
