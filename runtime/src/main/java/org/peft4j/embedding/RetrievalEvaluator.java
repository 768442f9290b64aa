package org.peft4j.embedding;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import org.peft4j.data.Batch;
import org.peft4j.data.PairBatches;
import org.peft4j.data.PairDataset;
import org.peft4j.data.RetrievalSet;
import org.peft4j.data.ScoredPair;
import org.peft4j.data.Tokenizer;
import org.peft4j.tensor.StepScope;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Evaluates a {@link SentenceEncoder} with dropout off and no autograd graph: retrieval metrics
 * over a {@link RetrievalSet} and Spearman's ρ over scored pairs. Similarities are one native
 * matmul per chunk of queries; ranks are computed in Java ({@link RetrievalMetrics}).
 */
public final class RetrievalEvaluator {

    /** Queries scored per matmul: bounds the (chunk × corpus) score matrix copied to Java. */
    private static final int QUERY_CHUNK = 256;

    private final SentenceEncoder encoder;
    private final NDManager manager;
    private final int batchSize;

    public RetrievalEvaluator(SentenceEncoder encoder, NDManager manager, int batchSize) {
        this.encoder = encoder;
        this.manager = manager;
        this.batchSize = batchSize;
    }

    /** A retrieval set tokenized once, to be evaluated before and after training. */
    public record Tokenized(PairDataset queries, PairDataset corpus, List<Map<Integer, Double>> relevance) {
        public static Tokenized of(RetrievalSet set, Tokenizer tokenizer) {
            return new Tokenized(PairDataset.sentences(set.queries(), tokenizer),
                    PairDataset.sentences(set.corpus(), tokenizer), set.relevance());
        }
    }

    /** recall@1/5/10, mrr@10, ndcg@10 and the query count. */
    public Map<String, Double> retrieval(Tokenized set) {
        boolean wasTraining = encoder.model().isTraining();
        encoder.model().train(false);
        try (NDManager m = manager.newSubManager()) {
            NDArray queries = encodeAll(set.queries(), m);   // (Q, H)
            NDArray corpus = encodeAll(set.corpus(), m);     // (D, H)
            RetrievalMetrics metrics = new RetrievalMetrics();
            long q = queries.getShape().get(0);
            for (long from = 0; from < q; from += QUERY_CHUNK) {
                try (StepScope scope = new StepScope()) {
                    long to = Math.min(q, from + QUERY_CHUNK);
                    // unit vectors: the dot product is the cosine similarity
                    NDArray scores = queries.get(new NDIndex("{}:{}", from, to)).matMul(corpus.transpose());
                    float[] flat = scores.toFloatArray();
                    int d = (int) corpus.getShape().get(0);
                    for (int i = 0; i < to - from; i++) {
                        float[] row = new float[d];
                        System.arraycopy(flat, i * d, row, 0, d);
                        metrics.add(row, set.relevance().get((int) from + i));
                    }
                }
            }
            return metrics.result();
        } finally {
            encoder.model().train(wasTraining);
        }
    }

    /** Spearman's ρ between cos(a, b) and the gold scores ({@code spearman}) and the pair count. */
    public Map<String, Double> spearman(PairDataset scored) {
        if (!scored.hasScores() || scored.columnCount() != 2) {
            throw new IllegalArgumentException("Spearman needs scored (a, b) pairs");
        }
        boolean wasTraining = encoder.model().isTraining();
        encoder.model().train(false);
        double[] cos = new double[scored.size()];
        double[] gold = new double[scored.size()];
        PairBatches batches = PairBatches.inOrder(scored, batchSize);
        try {
            for (int b = 0; b < batches.size(); b++) {
                try (StepScope scope = new StepScope()) {
                    Batch batch = batches.get(b, manager);
                    List<PairBatches.Column> cols = PairBatches.unpack(batch);
                    NDArray a = encode(cols.get(0));
                    NDArray c = encode(cols.get(1));
                    float[] sims = a.mul(c).sum(new int[] {1}).toFloatArray();
                    int[] rows = batches.indices(b);
                    for (int j = 0; j < rows.length; j++) {
                        cos[rows[j]] = sims[j];
                        gold[rows[j]] = scored.score(rows[j]);
                    }
                }
            }
        } finally {
            encoder.model().train(wasTraining);
        }
        return Map.of("spearman", Spearman.correlation(cos, gold), "pairs", (double) scored.size());
    }

    /** (N, H) unit vectors of a one-column dataset, in order, living in {@code m}. */
    NDArray encodeAll(PairDataset texts, NDManager m) {
        PairBatches batches = PairBatches.inOrder(texts, batchSize);
        List<NDArray> parts = new ArrayList<>();
        for (int b = 0; b < batches.size(); b++) {
            try (StepScope scope = new StepScope()) {
                PairBatches.Column col = PairBatches.unpack(batches.get(b, manager)).get(0);
                NDArray v = encode(col);
                // keep only the vectors past the step; activations die with the scope
                v.attach(m);
                parts.add(StepScope.keep(v));
            }
        }
        if (parts.size() == 1) {
            return parts.get(0);
        }
        NDArray all = NDArrays.concat(new NDList(parts), 0);   // in m, the first part's manager
        parts.forEach(NDArray::close);
        return all;
    }

    private NDArray encode(PairBatches.Column c) {
        return encoder.encode(c.inputIds(), c.attentionMask(), c.tokenTypeIds());
    }
}
