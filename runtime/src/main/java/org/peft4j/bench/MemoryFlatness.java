package org.peft4j.bench;

import org.peft4j.run.MemoryStats;

import java.io.PrintStream;

/**
 * Whether a case's memory stays flat over many steps: its resident set sampled while it runs, the growth
 * measured from the end of the warm-up (a tenth of the steps, when allocator pools and libtorch's caches
 * have reached their working size) to the last step. Growth that scales with the step count is a leak.
 *
 * @param steps     steps run
 * @param startRss  resident set after the warm-up tenth
 * @param endRss    resident set after the last step
 * @param peakRss   the largest sample
 */
public record MemoryFlatness(String name, int steps, long startRss, long endRss, long peakRss) {

    /** The project's limit: the resident set grows by less than 2% over the measured steps. */
    public static final double LIMIT = 0.02;

    public double growth() {
        return (double) (endRss - startRss) / startRss;
    }

    public boolean flat() {
        return growth() < LIMIT;
    }

    /** Runs {@code steps} repeats of {@code runner}, sampling the resident set {@code samples} times. */
    public static MemoryFlatness measure(String name, Benchmark.Runner runner, int steps, int samples, PrintStream log) {
        int warm = Math.max(1, steps / 10);
        int every = Math.max(1, steps / samples);
        long start = 0;
        long peak = 0;
        long rss = 0;
        for (int i = 1; i <= steps; i++) {
            runner.run();
            if (i == warm || i % every == 0 || i == steps) {
                rss = MemoryStats.rssBytes();
                peak = Math.max(peak, rss);
                if (i == warm) {
                    start = rss;
                }
                log.printf("  %-18s step %6d  RSS %7.1f MB%n", name, i, rss / 1e6);
            }
        }
        return new MemoryFlatness(name, steps, start, rss, peak);
    }

    public String describe() {
        return String.format("%s: RSS %.1f MB after step %d -> %.1f MB after step %d (peak %.1f MB): %+.2f%% (%s, limit %.0f%%)",
                name, startRss / 1e6, Math.max(1, steps / 10), endRss / 1e6, steps, peakRss / 1e6, 100 * growth(),
                flat() ? "flat" : "GROWS", 100 * LIMIT);
    }
}
