package org.peft4j.train

import spock.lang.Specification

class TrainConfigSpec extends Specification {

    static final TrainConfig OK = new TrainConfig(1, 16, 1, 1.0, 42, 10, 0, 64)

    def "the eight-argument constructor keeps its old meaning: a checkpoint at the end, the last one kept"() {
        expect:
        OK.checkpointEvery() == 0
        OK.keepCheckpoints() == 1
        OK.bestMetric() == null
        OK.patience() == 0
        OK.validate().isEmpty()
        OK.withCheckpoints(50, 3).withBest('valid.loss', null).withEarlyStopping(2).validate().isEmpty()
        OK.withBest('valid.loss', null).mode() == MetricMode.MIN
    }

    def "a bad setting is reported with the field, the value and the fix"() {
        expect:
        config.validate().any { it.contains(message) }

        where:
        config                                                    || message
        OK.withCheckpoints(-1, 1)                                 || 'train.checkpointEvery = -1 must be >= 0'
        OK.withCheckpoints(10, 0)                                 || 'train.keepCheckpoints = 0 must be >= 1'
        OK.withBest('f1', MetricMode.MAX)                         || "train.bestMetric = 'f1' must be 'valid.<metric>'"
        OK.withBest('valid.auc', MetricMode.MAX)                  || "e.g. 'valid.f1'"
        OK.withBest('test.f1', MetricMode.MAX)                    || "must be 'valid.<metric>'"
        new TrainConfig(1, 16, 1, 1.0, 42, 0, 0, 64).withBest('valid.f1', MetricMode.MAX) || 'set evalEvery'
        OK.withEarlyStopping(3)                                   || 'needs a metric to watch: set bestMetric'
        OK.withBest('valid.f1', MetricMode.MAX).withEarlyStopping(-2) || 'patience = -2 must be >= 0'
    }
}
