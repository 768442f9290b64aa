package org.peft4j.run;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What a finished run measured; also written to {@code summary.json} in the run directory.
 *
 * @param runDir           the run directory
 * @param trainableParams  parameters that trained
 * @param totalParams      all parameters
 * @param before           metrics of the untrained model per split (empty when not evaluated)
 * @param after            metrics of the trained model per split
 * @param steps            optimizer steps taken
 * @param wallSeconds      wall time of the whole run
 * @param trainSeconds     wall time of the training loop alone
 * @param tokensPerSecond  non-padding training tokens per second
 * @param peakRssBytes     peak resident memory of the process
 * @param samples          the recipe's sample prompts with generations before and after (causal LM), else empty
 * @param firstLoss        training loss of this run's first step (NaN when it took none)
 * @param lastLoss         mean training loss of the last 10% of this run's steps, at least one (NaN when none)
 */
public record Summary(Path runDir, long trainableParams, long totalParams,
                      Map<String, Map<String, Double>> before, Map<String, Map<String, Double>> after,
                      int steps, double wallSeconds, double trainSeconds, double tokensPerSecond, long peakRssBytes,
                      List<GenerationSample> samples, double firstLoss, double lastLoss) {

    public Summary {
        samples = samples == null ? List.of() : List.copyOf(samples);
    }

    /** A summary without generations or losses. */
    public Summary(Path runDir, long trainableParams, long totalParams,
                   Map<String, Map<String, Double>> before, Map<String, Map<String, Double>> after,
                   int steps, double wallSeconds, double trainSeconds, double tokensPerSecond, long peakRssBytes) {
        this(runDir, trainableParams, totalParams, before, after, steps, wallSeconds, trainSeconds, tokensPerSecond,
                peakRssBytes, List.of(), Double.NaN, Double.NaN);
    }

    /** The first loss of {@code losses} and the mean of its last 10% (at least one), as {firstLoss, lastLoss}. */
    static double[] firstAndLast(List<Double> losses) {
        if (losses.isEmpty()) {
            return new double[] {Double.NaN, Double.NaN};
        }
        int tail = Math.max(1, losses.size() / 10);
        double last = losses.subList(losses.size() - tail, losses.size()).stream()
                .mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        return new double[] {losses.get(0), last};
    }
}
