package org.peft4j.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the examples come from and how they are read.
 *
 * @param train      JSONL file of training examples (one JSON object per line)
 * @param valid      JSONL file for validation, or null
 * @param test       JSONL file for the final test, or null
 * @param textField  the field holding the text
 * @param labelField the field holding the label (one of the task's labels)
 * @param maxLength  sequences are truncated to this many tokens (counted, never silently)
 * @param limit      read at most this many training examples (0: all)
 */
public record DataConfig(Path train, Path valid, Path test, String textField, String labelField, int maxLength,
                         int limit) {

    public List<String> validate() {
        return validate(512);
    }

    /** As {@link #validate()}, with the longest maxLength the task's models take. */
    public List<String> validate(int maxLengthCap) {
        List<String> p = new ArrayList<>();
        if (train == null) {
            p.add("data.train is missing; e.g. train jsonl('data/spam/train.jsonl')");
        }
        for (Path f : new Path[] {train, valid, test}) {
            if (f != null && !Files.isRegularFile(f)) {
                p.add("data file " + f + " does not exist (paths are relative to the recipe's folder)");
            }
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
