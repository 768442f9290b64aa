package org.peft4j.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sentence-embedding training data, tokenized once: one to three aligned text columns and, for
 * scored pairs, a score per row.
 * <ul>
 *   <li>sentences: 1 column (unsupervised SimCSE encodes it twice)</li>
 *   <li>pairs: 2 columns (anchor, positive) or 3 (anchor, positive, hard negative)</li>
 *   <li>scored pairs: 2 columns (a, b) and {@link #score}</li>
 * </ul>
 */
public final class PairDataset {

    private final List<TokenTable> columns;
    private final float[] scores;
    private final int padId;

    private PairDataset(List<TokenTable> columns, float[] scores, int padId) {
        int n = columns.get(0).size();
        if (n == 0) {
            throw new IllegalArgumentException("no examples given");
        }
        this.columns = List.copyOf(columns);
        this.scores = scores;
        this.padId = padId;
    }

    public static PairDataset sentences(List<String> texts, Tokenizer tokenizer) {
        return new PairDataset(List.of(TokenTable.of(texts, tokenizer)), null, tokenizer.padId());
    }

    public static PairDataset pairs(List<TextPair> pairs, Tokenizer tokenizer) {
        List<TokenTable> cols = new ArrayList<>();
        cols.add(TokenTable.of(pairs.stream().map(TextPair::anchor).toList(), tokenizer));
        cols.add(TokenTable.of(pairs.stream().map(TextPair::positive).toList(), tokenizer));
        if (!pairs.isEmpty() && pairs.get(0).negative() != null) {
            cols.add(TokenTable.of(pairs.stream().map(TextPair::negative).toList(), tokenizer));
        }
        return new PairDataset(cols, null, tokenizer.padId());
    }

    public static PairDataset scored(List<ScoredPair> pairs, Tokenizer tokenizer) {
        float[] s = new float[pairs.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) pairs.get(i).score();
        }
        return new PairDataset(List.of(TokenTable.of(pairs.stream().map(ScoredPair::a).toList(), tokenizer),
                TokenTable.of(pairs.stream().map(ScoredPair::b).toList(), tokenizer)), s, tokenizer.padId());
    }

    public int size() {
        return columns.get(0).size();
    }

    /** Text columns: 1, 2 or 3. */
    public int columnCount() {
        return columns.size();
    }

    public TokenTable column(int c) {
        return columns.get(c);
    }

    public boolean hasScores() {
        return scores != null;
    }

    public float score(int i) {
        return scores[i];
    }

    public int padId() {
        return padId;
    }

    public int batchesPerEpoch(int batchSize) {
        return (size() + batchSize - 1) / batchSize;
    }

    /** Counts for printing: examples, columns, tokens and truncated texts over all columns, longest text. */
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("examples", (long) size());
        m.put("columns", (long) columns.size());
        long tokens = 0;
        long truncated = 0;
        long longest = 0;
        for (TokenTable t : columns) {
            tokens += t.tokens();
            truncated += t.truncated();
            for (int i = 0; i < t.size(); i++) {
                longest = Math.max(longest, t.length(i));
            }
        }
        m.put("tokens", tokens);
        m.put("truncated", truncated);
        m.put("longest", longest);
        return m;
    }
}
