package org.peft4j.embedding

import ai.djl.ndarray.NDManager
import org.peft4j.tensor.Backend
import spock.lang.AutoCleanup
import spock.lang.Specification

class InfoNceLossSpec extends Specification {

    @AutoCleanup
    NDManager m = Backend.get().manager().newSubManager()

    static final double[][] A = [[0.6, 0.8], [1, 0], [0, -1]]
    static final double[][] P = [[0.8, 0.6], [0.6, -0.8], [-1, 0]]
    static final double[][] N = [[0, 1], [0.28, 0.96]]

    /** ℓ = mean over i of −log(exp(aᵢ·pᵢ/τ) / Σⱼ exp(aᵢ·cⱼ/τ)), c = positives then negatives; by hand in doubles. */
    static double direct(double[][] a, double[][] p, double[][] n, double tau) {
        List<double[]> c = []
        p.each { c << it }
        n?.each { c << it }
        double sum = 0
        for (int i = 0; i < a.length; i++) {
            double[] s = new double[c.size()]
            double z = 0
            for (int j = 0; j < c.size(); j++) {
                for (int d = 0; d < a[i].length; d++) s[j] += a[i][d] * c[j][d]
                s[j] /= tau
                z += Math.exp(s[j])
            }
            sum += -Math.log(Math.exp(s[i]) / z)
        }
        sum / a.length
    }

    def array(double[][] rows) {
        m.create(rows.flatten().collect { (float) it } as float[], new ai.djl.ndarray.types.Shape(rows.length, rows[0].length))
    }

    def "InfoNCE with in-batch negatives equals the formula with the positives on the diagonal"() {
        when:
        double loss = InfoNceLoss.loss(array(A), array(P), null, tau).getFloat()

        then:
        Math.abs(loss - direct(A, P, null, tau)) < 1e-4 * Math.max(1, loss)

        where:
        tau << [1.0, 0.5, 0.05]
    }

    def "hard negatives are extra columns of the similarity matrix and raise the loss"() {
        when:
        double with = InfoNceLoss.loss(array(A), array(P), array(N), 0.1).getFloat()
        double without = InfoNceLoss.loss(array(A), array(P), null, 0.1).getFloat()

        then:
        InfoNceLoss.logits(array(A), array(P), array(N), 0.1).getShape().getShape() == [3L, 5L] as long[]
        Math.abs(with - direct(A, P, N, 0.1)) < 1e-4 * with
        with > without
    }

    def "a batch whose anchors equal their positives and are orthogonal to the rest has a loss near zero at low temperature"() {
        given:
        double[][] e = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]

        expect:
        InfoNceLoss.loss(array(e), array(e), null, 0.01).getFloat() < 1e-6
    }

    def "the cosine regression loss is the mean squared gap between cos(a, b) and the score"() {
        given: 'cosines 1, 0 and -0.6 (raw vectors: the loss normalises them)'
        double[][] a = [[2, 0], [0, 3], [0.6, 0.8]]
        double[][] b = [[5, 0], [1, 0], [-0.6, -0.8]]
        def scores = m.create([1f, 0.5f, 0f] as float[])
        double expected = ((1 - 1) ** 2 + (0 - 0.5) ** 2 + (-1 - 0) ** 2) / 3

        expect:
        Math.abs(CosineRegressionLoss.loss(array(a), array(b), scores).getFloat() - expected) < 1e-6
    }

    def "a temperature that is not positive is refused"() {
        when:
        InfoNceLoss.loss(array(A), array(P), null, 0)

        then:
        thrown(IllegalArgumentException)
    }
}
