package org.peft4j.run;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

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

    /**
     * The splits' statistics as a table, one row per split and one column per statistic in the order the splits
     * name them; a label's count ("label.spam") is headed by the label alone, a statistic a split lacks is blank.
     * <pre>
     * data       split  examples  skipped  truncated  tokens  longest  ham  spam
     *            train        32        0          3    2901      128   25     7
     * </pre>
     */
    public String dataTable() {
        Set<String> columns = new LinkedHashSet<>();
        splits.values().forEach(m -> columns.addAll(m.keySet()));
        List<String> header = new ArrayList<>(List.of("split"));
        columns.forEach(c -> header.add(c.startsWith("label.") ? c.substring(6) : c));
        List<List<String>> rows = new ArrayList<>(List.of(header));
        splits.forEach((split, m) -> {
            List<String> row = new ArrayList<>(List.of(split));
            columns.forEach(c -> row.add(m.containsKey(c) ? Long.toString(m.get(c)) : ""));
            rows.add(row);
        });
        int[] width = new int[header.size()];
        rows.forEach(r -> {
            for (int i = 0; i < r.size(); i++) {
                width[i] = Math.max(width[i], r.get(i).length());
            }
        });
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < rows.size(); r++) {
            StringBuilder line = new StringBuilder(r == 0 ? "data       " : "           ");
            for (int i = 0; i < width.length; i++) {
                String cell = rows.get(r).get(i);
                // the split names read left-aligned, the numbers right-aligned under their headings
                line.append(i == 0 ? String.format("%-" + width[0] + "s", cell)
                        : "  " + String.format("%" + width[i] + "s", cell));
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }

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
        sb.append(dataTable());
        sb.append("steps      ").append(stepsPerEpoch).append(" per epoch, ").append(totalSteps).append(" in all\n");
        if (budget != null) {
            sb.append("budget     ").append(budget).append('\n');
        }
        return sb.toString();
    }
}
