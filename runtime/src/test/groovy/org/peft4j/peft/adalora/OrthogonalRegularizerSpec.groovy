package org.peft4j.peft.adalora

import ai.djl.engine.Engine
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import spock.lang.Specification

class OrthogonalRegularizerSpec extends Specification {

    def manager = Backend.get().manager()

    static final double[][] P = [[0.5, -0.2], [0.1, 0.8], [0.3, 0.4]]          // [out 3, r 2]
    static final double[][] Q = [[0.6, 0.1, -0.3, 0.2], [0.0, 0.7, 0.5, -0.1]] // [r 2, in 4]

    def "the paper's penalty and its gradients equal ‖PᵀP − I‖² + ‖QQᵀ − I‖², 4P(PᵀP − I) and 4(QQᵀ − I)Q"() {
        given:
        def p = manager.create(P.collect { it as float[] } as float[][])
        def q = manager.create(Q.collect { it as float[] } as float[][])
        p.setRequiresGradient(true)
        q.setRequiresGradient(true)
        double[][] dp = minusI(mul(t(P), P))   // PᵀP − I, [2, 2]
        double[][] dq = minusI(mul(Q, t(Q)))   // QQᵀ − I, [2, 2]

        when:
        float value
        try (def scope = new StepScope(); def gc = Engine.instance.newGradientCollector()) {
            def r = new OrthogonalRegularizer(OrthRegKind.PAPER).penalty(p, q)
            value = r.getFloat()
            gc.backward(r)
        }
        def gradP = p.gradient.toFloatArray()
        def gradQ = q.gradient.toFloatArray()

        then:
        Math.abs(value - (sumSq(dp) + sumSq(dq))) < 1e-5
        close(gradP, flat(scale(mul(P, dp), 4)))
        close(gradQ, flat(scale(mul(dq, Q), 4)))
    }

    def "PEFT's variant is the mean of the plain Frobenius norms"() {
        given:
        def p = manager.create(P.collect { it as float[] } as float[][])
        def q = manager.create(Q.collect { it as float[] } as float[][])

        expect:
        Math.abs(new OrthogonalRegularizer(OrthRegKind.PEFT).penalty(p, q).getFloat()
                - (Math.sqrt(sumSq(minusI(mul(t(P), P)))) + Math.sqrt(sumSq(minusI(mul(Q, t(Q)))))) / 2) < 1e-5
    }

    static double[][] t(double[][] a) { (0..<a[0].length).collect { j -> (0..<a.length).collect { i -> a[i][j] } as double[] } as double[][] }

    static double[][] mul(double[][] a, double[][] b) {
        (0..<a.length).collect { i -> (0..<b[0].length).collect { j -> (0..<b.length).sum { k -> a[i][k] * b[k][j] } as double } as double[] } as double[][]
    }

    static double[][] minusI(double[][] a) { (0..<a.length).collect { i -> (0..<a[i].length).collect { j -> a[i][j] - (i == j ? 1 : 0) } as double[] } as double[][] }

    static double[][] scale(double[][] a, double s) { a.collect { row -> row.collect { it * s } as double[] } as double[][] }

    static double sumSq(double[][] a) { a.flatten().sum { it * it } as double }

    static double[] flat(double[][] a) { a.flatten() as double[] }

    static boolean close(float[] got, double[] want) { (0..<want.length).every { Math.abs(got[it] - want[it]) < 1e-5 } }
}
