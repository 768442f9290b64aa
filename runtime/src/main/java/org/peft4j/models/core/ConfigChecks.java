package org.peft4j.models.core;

import org.peft4j.config.ConfigException;

import java.util.List;

/** Range checks of config.json fields, each adding a message that names the field, its value and the range. */
public final class ConfigChecks {

    private ConfigChecks() {
    }

    /**
     * Throws one {@link ConfigException} listing {@code problems}, if there are any: a family's typed
     * config validates its values with it, as the families build only on models.core.
     */
    public static void throwIfAny(List<String> problems) {
        ConfigException.throwIfAny(problems);
    }

    /** {@code value} must be &gt; 0. */
    public static void positive(List<String> problems, String field, int value) {
        if (value <= 0) {
            problems.add(field + " = " + value + " must be > 0");
        }
    }

    /** {@code value} must be a probability of dropping: in [0, 1). */
    public static void probability(List<String> problems, String field, double value) {
        if (!(value >= 0 && value < 1)) {
            problems.add(field + " = " + value + " must be in [0, 1)");
        }
    }

    /** {@code value} must be &gt; 0 (a norm's ε, an initializer's σ). */
    public static void positive(List<String> problems, String field, double value) {
        if (!(value > 0)) {
            problems.add(field + " = " + value + " must be > 0");
        }
    }
}
