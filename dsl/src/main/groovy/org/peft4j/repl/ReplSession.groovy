package org.peft4j.repl

import org.peft4j.peft.adalora.AllocationReport
import org.peft4j.run.SteppedRun
import org.peft4j.run.Summary

import java.nio.file.Path

/**
 * A fine-tune explored step by step: the open {@link SteppedRun} of a recipe and its run directory.
 * {@code session.loss}, {@code session.metrics}, {@code session.model}, {@code session.ranks} read it; the
 * verbs ({@code train}, {@code evaluate}, {@code predict}, {@code save} ...) act on it.
 */
class ReplSession implements Closeable {

    final ReplRecipe recipe
    final SteppedRun run
    private final Map<String, Map<String, Double>> latest = new LinkedHashMap<>()
    /** When each split's latest metrics were taken: "before", "step N". */
    private final Map<String, String> taken = new LinkedHashMap<>()

    ReplSession(ReplRecipe recipe, SteppedRun run) {
        this.recipe = recipe
        this.run = run
        latest.putAll(run.before())
        run.before().keySet().each { taken[it] = 'before' }
    }

    /** The training loss of every step so far, first to last. */
    List<Double> getLoss() {
        run.losses()
    }

    /** The learning rate of every step so far. */
    List<Double> getLr() {
        run.learningRates()
    }

    /** Optimizer steps done, and planned. */
    int getStep() {
        run.state().step()
    }

    int getSteps() {
        run.plan().totalSteps()
    }

    /** The latest metrics of each evaluation split (before training, during it, or from {@code evaluate}). */
    Map<String, Map<String, Double>> getMetrics() {
        Map<String, Map<String, Double>> out = new LinkedHashMap<>(latest)
        duringTraining().each { split, m -> out[split] = m }
        out
    }

    /** The evaluations made during training ({@code train.evalEvery}) that are newer than the latest kept. */
    private Map<String, Map<String, Double>> duringTraining() {
        Map<String, Map<String, Double>> out = new LinkedHashMap<>()
        run.state().lastEval().each { String key, Double v ->
            int dot = key.indexOf('.')
            String split = key.substring(0, dot)
            if (taken[split] in [null, 'before']) {
                out.computeIfAbsent(split) { new LinkedHashMap<String, Double>() }[key.substring(dot + 1)] = v
            }
        }
        out
    }

    /** Records an evaluation made now. */
    void evaluated(Map<String, Map<String, Double>> metrics) {
        latest.putAll(metrics)
        metrics.keySet().each { taken[it] = "step ${step}".toString() }
    }

    /** The model with its adapters, walked by Hugging Face names. */
    ModuleView getModel() {
        new ModuleView(run.model())
    }

    /** The adapter (LoRA, AdaLoRA), or null when the whole model trains. */
    def getAdapter() {
        run.adapter()
    }

    /** AdaLoRA's current rank of each module as a layer × module table. */
    Ranks getRanks() {
        if (run.adaLoraRanks().isEmpty()) {
            throw new IllegalStateException("ranks are AdaLoRA's; the recipe ${recipe.name} has no adalora { } block")
        }
        new Ranks(run.adaLoraRanks(), run.adaLoraInitialRank())
    }

    /** The run directory. */
    Path getDir() {
        run.path()
    }

    def getPlan() {
        run.plan()
    }

    /** The summary once saved, else null. */
    Summary getSummary() {
        run.summary()
    }

    @Override
    void close() {
        run.close()
    }

    @Override
    String toString() {
        StringBuilder sb = new StringBuilder("session ${recipe.name}: step ${step} of ${steps}")
        if (loss) {
            sb << String.format(', loss %.4f', loss.last())
        }
        Set<String> training = duringTraining().keySet()
        metrics.each { split, m ->
            List<String> shown = m.findAll { k, v -> k in ['accuracy', 'f1', 'loss', 'perplexity', 'mrr@10', 'spearman'] }
                    .collect { k, v -> String.format('%s %.4f', k, v) }
            if (shown) {
                sb << ", ${split} (${taken[split] ?: 'during training'}) ${shown.join(' ')}"
            }
        }
        sb << (run.summary() != null ? ', saved' : '') << "\n  run directory ${ReplPaths.shown(dir)}"
        sb.toString()
    }

    /** AdaLoRA's ranks, printed as the run's final table is. */
    static class Ranks {
        final Map<String, Integer> ranks
        final int initR

        Ranks(Map<String, Integer> ranks, int initR) {
            this.ranks = ranks
            this.initR = initR
        }

        @Override
        String toString() {
            AllocationReport.table(ranks, initR).stripTrailing()
        }
    }
}
