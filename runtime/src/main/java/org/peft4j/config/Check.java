package org.peft4j.config;

import java.util.List;

/** Small validation helpers that phrase a problem as: field, value, valid range, fix. */
public final class Check {

    private Check() {
    }

    public static void positive(List<String> problems, String field, double value) {
        if (!(value > 0)) {
            problems.add(field + " = " + value + " must be > 0");
        }
    }

    public static void atLeast(List<String> problems, String field, double value, double min) {
        if (!(value >= min)) {
            problems.add(field + " = " + value + " must be >= " + min);
        }
    }

    public static void range(List<String> problems, String field, double value, double lo, double hi, String fix) {
        if (!(value >= lo && value <= hi)) {
            problems.add(field + " = " + value + " must be in [" + lo + ", " + hi + "]" + (fix == null ? "" : "; " + fix));
        }
    }
}
