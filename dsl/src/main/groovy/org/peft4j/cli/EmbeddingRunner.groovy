package org.peft4j.cli

import org.peft4j.config.ConfigException
import org.peft4j.dsl.Recipe
import org.peft4j.dsl.RecipeException
import org.peft4j.embedding.EmbeddingFineTune
import org.peft4j.embedding.EmbeddingSummary
import org.peft4j.run.Plan
import org.peft4j.run.RunOptions
import org.peft4j.train.TrainingListener

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@code peft4j run} and {@code peft4j check} for a recipe whose model block says {@code task embedding(...)}: the same
 * run directory as a classification run (recipe copy, recipe.json, config.json, metrics.jsonl, run.log, summary.json,
 * adapter), trained by {@link EmbeddingFineTune}, with retrieval and Spearman metrics before and after.
 */
final class EmbeddingRunner {

    /** Retrieval metrics in the order the report shows them. */
    static final List<String> RETRIEVAL = ['mrr@10', 'recall@1', 'recall@5', 'recall@10', 'ndcg@10']

    private EmbeddingRunner() {
    }

    static int run(RunCommand command, Recipe recipe, RunRecord previous) {
        CommonOptions common = command.common
        Path dir = command.runDirectory(recipe, previous).toAbsolutePath().normalize()
        RunRecord.write(dir, recipe, common.allowCode, previous?.runDir?.toAbsolutePath())
        PrintWriter w = command.spec.commandLine().out
        Path recipeFile = previous == null ? common.recipe.toAbsolutePath() : previous.recipeCopy()
        new PrintWriter(Files.newBufferedWriter(dir.resolve('run.log'))).withCloseable { PrintWriter log ->
            log.println("peft4j ${Main.Version.current()}: run ${common.recipe} ${recipe.overrides().collect { k, v -> "--set ${k}=${v}" }.join(' ')}".trim())
            TrainingListener console = common.quiet ? TrainingListener.NONE : new ProgressListener(w, System.console() != null && !common.verbose, common.verbose)
            TrainingListener listener = TrainingListener.all(console, new ProgressListener(log, false, true))
            EmbeddingSummary summary
            try {
                summary = EmbeddingFineTune.run(recipe.embedding(), command.options(dir, recipeFile), listener)
            } catch (ConfigException e) {
                RecipeException placed = recipe.locate(e)
                log.println("failed: ${placed.message}")
                throw placed
            } catch (Exception e) {
                log.println("failed: ${e.message ?: e.class.name}")
                throw e
            }
            String result = report(summary, Path.of('').toAbsolutePath())
            log.print(result)
            w.print(result)
        }
        w.flush()
        0
    }

    static int check(CheckCommand command, Recipe recipe) {
        PrintWriter out = command.spec.commandLine().out
        CommonOptions common = command.common
        if (!common.quiet) {
            out.println("recipe ${common.recipe} is valid (embedding task); resolving ${recipe.name()} ...")
            out.flush()
        }
        Plan plan
        try {
            plan = EmbeddingFineTune.plan(recipe.embedding(), common.quiet ? TrainingListener.NONE : new ProgressListener(out, false))
        } catch (ConfigException e) {
            throw recipe.locate(e)
        }
        out.print(plan.describe())
        def c = recipe.embedding()
        out.println("objective  ${c.loss().name().toLowerCase()}${c.loss().name() == 'COSINE' ? '' : ", temperature ${c.temperature()}"}, batch ${c.train().batchSize()}" +
                "${c.loss().name() == 'COSINE' ? '' : " (${c.train().batchSize() - 1} in-batch negatives per example)"}")
        if (recipe.params()) {
            out.println('params     ' + recipe.params().collect { k, v -> "${k} = ${v}" }.join(', '))
        }
        if (recipe.outputDir() != null) {
            out.println("output     ${recipe.outputDir()}")
        }
        out.flush()
        0
    }

    /** The result as a small table: every evaluation's metrics before and after, then cost. */
    static String report(EmbeddingSummary s, Path cwd) {
        StringBuilder sb = new StringBuilder('\n')
        sb << String.format('%-20s %8s %8s %8s%n', 'metric', 'before', 'after', 'change')
        for (String eval : (s.after().keySet() + s.before().keySet()).unique()) {
            Map<String, Double> b = s.before()[eval] ?: [:]
            Map<String, Double> a = s.after()[eval] ?: [:]
            List<String> metrics = ((eval == 'retrieval' ? RETRIEVAL : []) + a.keySet() + b.keySet()).unique()
                    .findAll { it != 'queries' && it != 'pairs' && (a.containsKey(it) || b.containsKey(it)) }
            for (String m : metrics) {
                Double before = b[m]
                Double after = a[m]
                sb << String.format('%-20s %8s %8s %8s%n', "${eval} ${m}", fmt(before), fmt(after),
                        before != null && after != null ? String.format('%+.4f', after - before) : '')
            }
        }
        sb << '\n'
        sb << String.format('%-16s %,d of %,d parameters (%.3f%%)%n', 'trainable', s.trainableParams(), s.totalParams(),
                s.totalParams() == 0 ? 0d : 100d * s.trainableParams() / s.totalParams())
        sb << String.format('%-16s %.4f → %.4f (first step → mean of the last 10%% of steps)%n', 'loss', s.firstLoss(), s.lastLoss())
        sb << String.format('%-16s %s (training %s, %d steps)%n', 'wall time', RunCommand.duration(s.wallSeconds()),
                RunCommand.duration(s.trainSeconds()), s.steps())
        sb << String.format('%-16s %,.0f tokens/s%n', 'throughput', s.tokensPerSecond())
        sb << String.format('%-16s %.2f GiB%n', 'peak memory', s.peakRssBytes() / (1024d * 1024 * 1024))
        Path run = s.runDir()
        sb << String.format('%-16s %s%n', 'run directory', run != null && run.startsWith(cwd) ? cwd.relativize(run) : run)
        sb.toString()
    }

    private static String fmt(Double v) {
        v == null ? '—' : String.format('%.4f', v)
    }
}
