package org.peft4j.embedding;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The files of a sentence-embedding run.
 *
 * @param train      training data in the form the loss needs: pair JSONL (INFONCE), sentences (SIMCSE),
 *                   scored-pair JSONL (COSINE)
 * @param queries    retrieval queries ({@code {"id", "text", "relevant"}}), or null; needs {@code corpus}
 * @param corpus     retrieval corpus ({@code {"id", "text"}}), or null
 * @param scored     scored pairs evaluated by Spearman's ρ, or null
 * @param maxLength  texts are truncated to this many tokens
 * @param limit      read at most this many training examples (0: all)
 */
public record EmbeddingDataConfig(Path train, Path queries, Path corpus, Path scored, int maxLength, int limit) {

    public List<String> validate() {
        List<String> p = new ArrayList<>();
        if (train == null) {
            p.add("data.train is missing; e.g. train 'data/spam-retrieval/train-pairs.jsonl'");
        }
        for (Path f : new Path[] {train, queries, corpus, scored}) {
            if (f != null && !Files.isRegularFile(f)) {
                p.add("data file " + f + " does not exist");
            }
        }
        if ((queries == null) != (corpus == null)) {
            p.add("data.queries and data.corpus go together: retrieval needs both, or neither");
        }
        if (maxLength < 8 || maxLength > 512) {
            p.add("data.maxLength = " + maxLength + " must be in [8, 512] for BERT-style models");
        }
        if (limit < 0) {
            p.add("data.limit = " + limit + " must be >= 0 (0 reads everything)");
        }
        return p;
    }
}
