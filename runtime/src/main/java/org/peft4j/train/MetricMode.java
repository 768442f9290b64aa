package org.peft4j.train;

/** Whether a larger or a smaller value of a metric is better (F1: larger; loss: smaller). */
public enum MetricMode {
    MAX, MIN;

    /** True when {@code candidate} beats {@code best}; anything beats NaN (no value yet). */
    public boolean improves(double candidate, double best) {
        if (Double.isNaN(candidate)) {
            return false;
        }
        if (Double.isNaN(best)) {
            return true;
        }
        return this == MAX ? candidate > best : candidate < best;
    }

    /** The usual direction for a metric name: losses go down, scores go up. */
    public static MetricMode defaultFor(String metric) {
        return metric != null && metric.endsWith("loss") ? MIN : MAX;
    }
}
