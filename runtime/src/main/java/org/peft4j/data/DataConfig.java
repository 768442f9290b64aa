package org.peft4j.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the examples come from and how they are read. Classification and causal-LM runs evaluate on
 * {@code valid} and {@code test}; an embedding run on {@code queries} with {@code corpus} (retrieval)
 * and on {@code scored} pairs (Spearman's ρ). Which files a task reads is checked by the run's config.
 *
 * @param train      JSONL file of training examples (one JSON object per line)
 * @param valid      JSONL file for validation, or null
 * @param test       JSONL file for the final test, or null
 * @param textField  the field holding the text
 * @param labelField the field holding the label (one of the task's labels)
 * @param maxLength  sequences are truncated to this many tokens (counted, never silently)
 * @param limit      read at most this many training examples (0: all)
 * @param queries    retrieval queries ({@code {"id", "text", "relevant"}}), or null; goes with {@code corpus}
 * @param corpus     the retrieval corpus ({@code {"id", "text"}}), or null
 * @param scored     scored pairs ({@code {"a", "b", "score"}}) evaluated by Spearman's ρ, or null
 */
public record DataConfig(Path train, Path valid, Path test, String textField, String labelField, int maxLength,
                         int limit, Path queries, Path corpus, Path scored) {

    /** The files of a classification or causal-LM run. */
    public DataConfig(Path train, Path valid, Path test, String textField, String labelField, int maxLength,
                      int limit) {
        this(train, valid, test, textField, labelField, maxLength, limit, null, null, null);
    }

    /** The files of an embedding run: training data in the form its loss reads, and its evaluations. */
    public static DataConfig embedding(Path train, Path queries, Path corpus, Path scored, int maxLength, int limit) {
        return new DataConfig(train, null, null, "text", "label", maxLength, limit, queries, corpus, scored);
    }

    /** Every file given, in the order train, valid, test, queries, corpus, scored. */
    public List<Path> files() {
        List<Path> out = new ArrayList<>();
        for (Path f : new Path[] {train, valid, test, queries, corpus, scored}) {
            if (f != null) {
                out.add(f);
            }
        }
        return out;
    }

    public List<String> validate() {
        return validate(512);
    }

    /** As {@link #validate()}, with the longest maxLength the task's models take. */
    public List<String> validate(int maxLengthCap) {
        List<String> p = new ArrayList<>();
        if (train == null) {
            p.add("data.train is missing; e.g. train jsonl('data/spam/train.jsonl')");
        }
        for (Path f : files()) {
            if (!Files.isRegularFile(f)) {
                p.add("data file " + f + " does not exist (paths are relative to the recipe's folder)");
            }
        }
        if ((queries == null) != (corpus == null)) {
            p.add("data.queries and data.corpus go together: retrieval needs both, or neither");
        }
        if (textField == null || textField.isBlank()) {
            p.add("data.text field is empty; name the JSON field that holds the text, e.g. text 'text'");
        }
        if (labelField == null || labelField.isBlank()) {
            p.add("data.label field is empty; name the JSON field that holds the label, e.g. label 'label'");
        }
        if (maxLength < 8 || maxLength > maxLengthCap) {
            p.add("data.maxLength = " + maxLength + " must be in [8, " + maxLengthCap + "]"
                    + (maxLengthCap == 512 ? " for BERT-style models" : ""));
        }
        if (limit < 0) {
            p.add("data.limit = " + limit + " must be >= 0 (0 reads everything)");
        }
        return p;
    }
}
