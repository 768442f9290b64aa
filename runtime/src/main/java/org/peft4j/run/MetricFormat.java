package org.peft4j.run;

import java.util.Locale;
import java.util.Set;

/** How a metric's value is written for people: counts as integers, every other metric with four decimals. */
public final class MetricFormat {

    /** Metrics that count things (examples, scored tokens, queries, scored pairs) rather than measure them. */
    public static final Set<String> COUNTS = Set.of("examples", "tokens", "queries", "pairs");

    private MetricFormat() {
    }

    public static boolean isCount(String metric) {
        return COUNTS.contains(metric);
    }

    /** "300" for a count, "0.9600" for anything else; NaN and infinities as Java writes them. */
    public static String format(String metric, double value) {
        if (isCount(metric) && value == Math.rint(value) && !Double.isInfinite(value)) {
            return String.format(Locale.ROOT, "%d", (long) value);
        }
        return String.format(Locale.ROOT, "%.4f", value);
    }
}
