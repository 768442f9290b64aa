package org.peft4j.train

import spock.lang.Specification

class ClassificationMetricsSpec extends Specification {

    def "binary metrics take the second label as the positive class"() {
        given: 'gold 1 1 1 0 0 0, predicted 1 1 0 1 0 0: tp 2, fp 1, fn 1'
        def m = ClassificationMetrics.compute([1, 1, 0, 1, 0, 0] as int[], [1, 1, 1, 0, 0, 0] as int[], 2)

        expect:
        Math.abs(m.accuracy - 4d / 6) < 1e-12
        Math.abs(m.precision - 2d / 3) < 1e-12
        Math.abs(m.recall - 2d / 3) < 1e-12
        Math.abs(m.f1 - 2d / 3) < 1e-12
    }

    def "with more classes precision, recall and F1 are macro averages"() {
        given: 'class 0 perfect, class 1 and 2 swapped once each'
        def m = ClassificationMetrics.compute([0, 0, 2, 1] as int[], [0, 0, 1, 2] as int[], 3)

        expect:
        m.accuracy == 0.5
        Math.abs(m.f1 - 1d / 3) < 1e-12
    }
}
