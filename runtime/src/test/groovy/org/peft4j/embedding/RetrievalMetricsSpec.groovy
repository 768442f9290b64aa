package org.peft4j.embedding

import spock.lang.Specification

class RetrievalMetricsSpec extends Specification {

    static double log2(double x) { Math.log(x) / Math.log(2) }

    def "recall@k, MRR@10 and nDCG@10 of a hand-made ranking equal hand-computed values"() {
        given: 'three queries over 12 documents; the relevant one sits at rank 1, 3 and 11'
        float[][] scores = new float[3][12]
        // query 0: doc 4 best
        (0..<12).each { scores[0][it] = -it }; scores[0][4] = 100
        // query 1: docs 7, 2 ahead of relevant doc 9 (rank 3)
        (0..<12).each { scores[1][it] = 0 }; scores[1][7] = 3; scores[1][2] = 2; scores[1][9] = 1
        // query 2: relevant doc 0 ranks last but one (rank 11 of 12)
        (0..<12).each { scores[2][it] = 20 - it }; scores[2][0] = 9.5f
        def rel = [[4: 1d], [9: 1d], [0: 1d]]

        when:
        def m = RetrievalMetrics.of(scores, rel)

        then:
        m['recall@1'] == 1 / 3d
        m['recall@5'] == 2 / 3d
        m['recall@10'] == 2 / 3d
        Math.abs(m['mrr@10'] - (1 + 1 / 3d + 0) / 3) < 1e-12
        Math.abs(m['ndcg@10'] - (1 + 1 / log2(4) + 0) / 3) < 1e-12
        m['queries'] == 3
    }

    def "graded nDCG@10 divides by the ideal ordering, and recall counts every relevant document"() {
        given: 'ranking d0 > d1 > d2 > d3; relevance d1 = 2, d3 = 1'
        float[] scores = [4, 3, 2, 1]
        def m = new RetrievalMetrics()

        when:
        m.add(scores, [1: 2d, 3: 1d])
        def r = m.result()

        then:
        double dcg = 2 / log2(3) + 1 / log2(5)
        double idcg = 2 / log2(2) + 1 / log2(3)
        Math.abs(r['ndcg@10'] - dcg / idcg) < 1e-12
        r['recall@1'] == 0
        r['recall@5'] == 1
        r['mrr@10'] == 0.5
    }

    def "equal scores keep corpus order, so metrics are deterministic"() {
        expect:
        RetrievalMetrics.topK([1, 3, 3, 0, 3] as float[], 3) == [1, 2, 4] as int[]
        RetrievalMetrics.topK([1, 2] as float[], 10) == [1, 0] as int[]
    }

    def "Spearman's rho on a hand case with ties uses averaged ranks"() {
        given:
        double[] x = [1, 2, 2, 3, 4]
        double[] y = [10, 30, 20, 20, 50]
        // ranks x: 1, 2.5, 2.5, 4, 5; ranks y: 1, 4, 2.5, 2.5, 5; both have mean 3, so the
        // deviations are dx = -2, -.5, -.5, 1, 2 and dy = -2, 1, -.5, -.5, 2
        double sxy = 4 - 0.5 + 0.25 - 0.5 + 4
        double sxx = 4 + 0.25 + 0.25 + 1 + 4
        double syy = 4 + 1 + 0.25 + 0.25 + 4

        expect:
        Spearman.ranks(x) == [1, 2.5, 2.5, 4, 5] as double[]
        Math.abs(Spearman.correlation(x, y) - sxy / Math.sqrt(sxx * syy)) < 1e-12
        Spearman.correlation([1, 2, 3] as double[], [3, 2, 1] as double[]) == -1
    }
}
