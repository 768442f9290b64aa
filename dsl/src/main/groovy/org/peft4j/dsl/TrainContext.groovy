package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.PackageScope
import org.peft4j.train.MetricMode
import org.peft4j.train.TrainConfig

import java.nio.file.Path

/**
 * {@code train { epochs 1; batchSize 16; gradAccum 1; clipNorm 1.0; seed 42; evalEvery 0; maxSteps 0 }}, and
 * checkpoints: {@code checkpointEvery 50; keepCheckpoints 2; bestMetric 'valid.f1'; bestMode 'max'; patience 3},
 * and memory: {@code activationCheckpointing true}.
 */
@CompileStatic
class TrainContext extends Context {

    private TrainConfig config = TrainConfig.defaults()

    TrainContext(Origins origins, Path baseDir) {
        super(origins, 'train', baseDir)
    }

    @Option
    void epochs(int n) {
        set('epochs', n)
    }

    @Option
    void batchSize(int n) {
        set('batchSize', n)
    }

    /** Forward passes accumulated into one optimizer step. */
    @Option
    void gradAccum(int n) {
        set('gradAccum', n)
    }

    /** Global gradient-norm clip (0: off). */
    @Option
    void clipNorm(Number norm) {
        set('clipNorm', norm.doubleValue())
    }

    @Option
    void seed(long seed) {
        set('seed', seed)
    }

    /** Evaluate on the validation set every N optimizer steps (0: at the end only). */
    @Option
    void evalEvery(int steps) {
        set('evalEvery', steps)
    }

    /** Stop after N optimizer steps (0: no limit). */
    @Option
    void maxSteps(int steps) {
        set('maxSteps', steps)
    }

    @Option
    void evalBatchSize(int n) {
        set('evalBatchSize', n)
    }

    /** Write a checkpoint every N optimizer steps (0: only at the end); a run resumes from the newest. */
    @Option
    void checkpointEvery(int steps) {
        set('checkpointEvery', steps)
    }

    /** How many of the newest checkpoints to keep (the best one is kept besides). */
    @Option
    void keepCheckpoints(int n) {
        set('keepCheckpoints', n)
    }

    /** The validation metric that picks the best checkpoint, e.g. 'valid.f1'. */
    @Option
    void bestMetric(String metric) {
        set('bestMetric', metric)
    }

    /** 'max' or 'min': whether a larger or smaller bestMetric is better (default: min for losses, else max). */
    @Option
    void bestMode(String mode) {
        if (mode in ['max', 'min']) {
            set('bestMode', MetricMode.valueOf(mode.toUpperCase()))
        } else {
            mark('bestMode')
            origins.problem("train.bestMode '${mode}' is not valid; use 'max' or 'min'".toString())
        }
    }

    /** Early stopping: stop after N evaluations in a row without a new best (0: never). */
    @Option
    void patience(int evals) {
        set('patience', evals)
    }

    /**
     * Activation checkpointing: keep only each encoder/decoder layer's input in the forward pass and
     * re-run the layer in backward. Less memory (one layer's activations at a time) for about one
     * more forward pass of compute per step.
     */
    @Option
    void activationCheckpointing(boolean on) {
        set('activationCheckpointing', on)
    }

    @PackageScope
    TrainConfig build() {
        config
    }

    private void set(String option, Object value) {
        config = Records.with(config, option, value)
        mark(option)
    }
}
