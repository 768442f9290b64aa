package org.peft4j.run

import spock.lang.Specification

class MergeDifferenceSpec extends Specification {

    def "the largest absolute difference and the largest unmerged output, over every row"() {
        when:
        def d = MergeDifference.of([[1f, -4f], [0.5f, 2f]] as float[][], [[1f, -4.25f], [0.5f, 2.125f]] as float[][])

        then:
        d.largest() == 0.25d
        d.scale() == 4d
        d.inputs() == 2
        d.describe() == '2.50e-01 (largest |logit| 4.000, 2 inputs)'
    }

    def "a difference is acceptable up to the tolerance times max(1, scale): #largest at scale #scale is #ok in float32"() {
        expect:
        new MergeDifference(largest, scale, 4).acceptable(false) == (ok == 'acceptable')

        where:
        largest | scale | ok
        1e-5    | 0.1   | 'acceptable'
        1e-4    | 0.1   | 'acceptable'
        2e-4    | 0.1   | 'not acceptable'
        9e-4    | 10    | 'acceptable'
        2e-3    | 10    | 'not acceptable'
    }

    def "float16 frozen weights allow 2% of the scale, float32 1e-4"() {
        expect:
        new MergeDifference(0.01, 1, 1).acceptable(true)
        !new MergeDifference(0.01, 1, 1).acceptable(false)
    }

    def "a NaN anywhere is never acceptable"() {
        when:
        def d = MergeDifference.of([[1f, 2f]] as float[][], [[Float.NaN, 2f]] as float[][])

        then:
        Double.isNaN(d.largest())
        !d.acceptable(true)
    }

    def "outputs of different shapes are refused, not compared"() {
        when:
        MergeDifference.of([[1f, 2f]] as float[][], [[1f]] as float[][])

        then:
        thrown(IllegalArgumentException)
    }
}
