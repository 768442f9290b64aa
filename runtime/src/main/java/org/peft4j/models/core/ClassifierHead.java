package org.peft4j.models.core;

import java.util.Arrays;
import java.util.List;

/**
 * Which head a sequence classifier puts over its encoder or decoder.
 *
 * <p>{@link #TRANSFORMERS} is the head of the family's Transformers class, the one
 * {@code AutoModelForSequenceClassification} loads: BERT's h[CLS] → pooler (dense, tanh) → dropout →
 * classifier; RoBERTa's {@code RobertaClassificationHead} on h[&lt;s&gt;]; a decoder's {@code score} on
 * its rightmost token that is not padding. A checkpoint's own head is used as Transformers uses it.
 *
 * <p>{@link #MEAN} is the mean of the real tokens' states → dropout → a linear {@code classifier}:
 * how sentence encoders such as all-MiniLM-L6-v2 were trained to pool. No Transformers class
 * computes it; a merged export writes it in sentence-transformers' layout.
 */
public enum ClassifierHead {
    /** The family's Transformers head ({@code AutoModelForSequenceClassification}). */
    TRANSFORMERS("transformers"),
    /** Mean of the real tokens' states, then a linear classifier (sentence-transformers' pooling). */
    MEAN("mean");

    private final String label;

    ClassifierHead(String label) {
        this.label = label;
    }

    /** The name recipes and files use: {@code "transformers"} or {@code "mean"}. */
    public String label() {
        return label;
    }

    /** The head called {@code label}, or null when none is. */
    public static ClassifierHead named(String label) {
        return Arrays.stream(values()).filter(h -> h.label.equals(label)).findFirst().orElse(null);
    }

    /** Every name, for messages. */
    public static List<String> labels() {
        return Arrays.stream(values()).map(ClassifierHead::label).toList();
    }
}
