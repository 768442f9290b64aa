package org.peft4j.embedding;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ranking metrics over queries, computed in Java from each query's scores over the corpus.
 * Documents are ranked by score, highest first; equal scores keep corpus order, so results are
 * deterministic. Per query, then averaged over queries:
 * <ul>
 *   <li>recall@k = |relevant ∩ top k| / |relevant| (with one relevant document: 1 if it is in the top k)</li>
 *   <li>MRR@10 = 1 / rank of the first relevant document, 0 when it is below rank 10</li>
 *   <li>nDCG@10 = DCG@10 / IDCG@10 with DCG = Σᵢ relᵢ / log₂(i + 1) over ranks i = 1..10 (linear gain,
 *       as trec_eval's ndcg_cut and BEIR), IDCG the DCG of the ideal ordering</li>
 * </ul>
 */
public final class RetrievalMetrics {

    /** The cut-offs of recall. */
    public static final int[] RECALL_AT = {1, 5, 10};
    static final int CUTOFF = 10;

    private final double[] recallSums = new double[RECALL_AT.length];
    private double mrrSum;
    private double ndcgSum;
    private int queries;

    /**
     * Adds one query.
     *
     * @param scores    the query's score for every document of the corpus
     * @param relevance document index to relevance (&gt; 0); documents not listed are irrelevant
     */
    public void add(float[] scores, Map<Integer, Double> relevance) {
        int[] top = topK(scores, Math.max(CUTOFF, RECALL_AT[RECALL_AT.length - 1]));
        for (int r = 0; r < RECALL_AT.length; r++) {
            int found = 0;
            for (int i = 0; i < Math.min(RECALL_AT[r], top.length); i++) {
                found += relevance.containsKey(top[i]) ? 1 : 0;
            }
            recallSums[r] += (double) found / relevance.size();
        }
        for (int i = 0; i < Math.min(CUTOFF, top.length); i++) {
            if (relevance.containsKey(top[i])) {
                mrrSum += 1.0 / (i + 1);
                break;
            }
        }
        double dcg = 0;
        for (int i = 0; i < Math.min(CUTOFF, top.length); i++) {
            dcg += relevance.getOrDefault(top[i], 0.0) / log2(i + 2);
        }
        double[] ideal = relevance.values().stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double idcg = 0;
        for (int i = 0; i < Math.min(CUTOFF, ideal.length); i++) {
            idcg += ideal[ideal.length - 1 - i] / log2(i + 2);
        }
        ndcgSum += idcg == 0 ? 0 : dcg / idcg;
        queries++;
    }

    /** recall@1, recall@5, recall@10, mrr@10, ndcg@10 (means over the queries added), and the query count. */
    public Map<String, Double> result() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int r = 0; r < RECALL_AT.length; r++) {
            m.put("recall@" + RECALL_AT[r], queries == 0 ? 0 : recallSums[r] / queries);
        }
        m.put("mrr@10", queries == 0 ? 0 : mrrSum / queries);
        m.put("ndcg@10", queries == 0 ? 0 : ndcgSum / queries);
        m.put("queries", (double) queries);
        return m;
    }

    /** Convenience: metrics of a whole (queries × documents) score matrix. */
    public static Map<String, Double> of(float[][] scores, List<Map<Integer, Double>> relevance) {
        RetrievalMetrics m = new RetrievalMetrics();
        for (int q = 0; q < scores.length; q++) {
            m.add(scores[q], relevance.get(q));
        }
        return m.result();
    }

    /** Indices of the k highest scores, best first; ties go to the lower index. */
    static int[] topK(float[] scores, int k) {
        int n = Math.min(k, scores.length);
        int[] top = new int[n];
        int size = 0;
        // insertion into a short sorted list: O(D·k) with k = 10, no boxing
        for (int d = 0; d < scores.length; d++) {
            if (size == n && !(scores[d] > scores[top[n - 1]])) {
                continue;
            }
            int i = size < n ? size++ : n - 1;
            while (i > 0 && scores[d] > scores[top[i - 1]]) {
                top[i] = top[i - 1];
                i--;
            }
            top[i] = d;
        }
        return Arrays.copyOf(top, size);
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }
}
