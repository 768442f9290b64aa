package org.peft4j.models.modernbert;

import java.util.Arrays;
import java.util.List;

/** How ModernBERT's classifier reduces the token states to one vector: {@code classifier_pooling}. */
public enum ClassifierPooling {
    /** The first token's state. */
    CLS("cls"),
    /** The mean over real (non-padding) tokens. */
    MEAN("mean");

    private final String hfName;

    ClassifierPooling(String hfName) {
        this.hfName = hfName;
    }

    public String hfName() {
        return hfName;
    }

    /** The pooling named {@code name}, or null. */
    public static ClassifierPooling named(String name) {
        return Arrays.stream(values()).filter(p -> p.hfName.equals(name)).findFirst().orElse(null);
    }

    public static List<String> names() {
        return Arrays.stream(values()).map(ClassifierPooling::hfName).toList();
    }
}
