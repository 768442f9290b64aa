package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.PackageScope
import org.peft4j.train.TrainConfig

import java.nio.file.Path

/** {@code train { epochs 1; batchSize 16; gradAccum 1; clipNorm 1.0; seed 42; evalEvery 0; maxSteps 0 }} */
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

    @PackageScope
    TrainConfig build() {
        config
    }

    private void set(String option, Object value) {
        config = Records.with(config, option, value)
        mark(option)
    }
}
