package org.peft4j.embedding;

import java.nio.file.Path;
import java.util.Map;

/**
 * What a sentence-embedding run measured; also written to {@code summary.json}.
 *
 * @param before          metrics of the untrained model per evaluation ("retrieval", "sts")
 * @param after           the same after training
 * @param firstLoss       training loss of the first step
 * @param lastLoss        mean training loss of the last 10% of the steps (at least one)
 * @param wallSeconds     the whole run, loading and evaluation included
 * @param trainSeconds    the training loop alone
 */
public record EmbeddingSummary(Path runDir, long trainableParams, long totalParams,
                               Map<String, Map<String, Double>> before, Map<String, Map<String, Double>> after,
                               int steps, double firstLoss, double lastLoss, double wallSeconds,
                               double trainSeconds, double tokensPerSecond, long peakRssBytes) {
}
