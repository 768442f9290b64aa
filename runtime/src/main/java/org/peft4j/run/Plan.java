package org.peft4j.run;

import java.util.List;
import java.util.Map;

/**
 * What a run will do, resolved without training: {@code peft4j check} prints it.
 *
 * @param modelDescription  e.g. "all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384) from ~/.cache/peft4j/models/..."
 * @param adaptedModules    module paths that got an adapter
 * @param trainableModules  parameter paths that train (adapter and modules to save)
 * @param trainableParams   parameters that train
 * @param totalParams       all parameters, adapter included
 * @param splits            per split ("train", "valid", "test"): examples, truncated, tokens, and counts per label
 * @param stepsPerEpoch     optimizer steps per epoch
 * @param totalSteps        optimizer steps in the run
 * @param budget            AdaLoRA's budget schedule in words and figures, or null without AdaLoRA
 */
public record Plan(String modelDescription, List<String> adaptedModules, List<String> trainableModules,
                   long trainableParams, long totalParams, Map<String, Map<String, Long>> splits,
                   int stepsPerEpoch, int totalSteps, String budget) {

    public double trainableShare() {
        return totalParams == 0 ? 0 : (double) trainableParams / totalParams;
    }

    /** A human-readable report. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("model      ").append(modelDescription).append('\n');
        sb.append("adapted    ").append(adaptedModules.size()).append(" modules\n");
        for (String m : adaptedModules) {
            sb.append("             ").append(m).append('\n');
        }
        sb.append(String.format("parameters %,d trainable of %,d (%.3f%%)%n", trainableParams, totalParams,
                100 * trainableShare()));
        for (Map.Entry<String, Map<String, Long>> e : splits.entrySet()) {
            sb.append(String.format("%-10s %s%n", e.getKey(), e.getValue()));
        }
        sb.append("steps      ").append(stepsPerEpoch).append(" per epoch, ").append(totalSteps).append(" in all\n");
        if (budget != null) {
            sb.append("budget     ").append(budget).append('\n');
        }
        return sb.toString();
    }
}
