package org.peft4j.run;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.peft.adalora.AdaLoraHook;
import org.peft4j.peft.adalora.AdaLoraStepHook;
import org.peft4j.peft.adalora.AllocationReport;
import org.peft4j.train.CheckpointException;
import org.peft4j.train.StepHook;
import org.peft4j.train.Checkpoints;
import org.peft4j.train.LrSchedule;
import org.peft4j.train.Optimizer;
import org.peft4j.train.TrainConfig;
import org.peft4j.train.TrainBatch;
import org.peft4j.train.TrainState;
import org.peft4j.train.Trainer;
import org.peft4j.train.TrainingListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a {@link RunConfig}: the one entry point that the command line, the REPL and Java code share.
 * Reads top to bottom like a recipe: engine, model, adapter, data, (evaluate), train, evaluate, save.
 */
public final class FineTune {

    private FineTune() {
    }

    /** Resolves model, adapter and data, and reports what a run would do; trains nothing. */
    public static Plan plan(RunConfig config, TrainingListener listener) {
        try (RunSession s = RunSession.open(config.validated(), listener)) {
            return s.plan();
        }
    }

    /**
     * Trains, evaluates and writes the run directory. With {@code options.resume()}, or whenever
     * the directory holds checkpoints of an unfinished run, it continues from the newest valid
     * checkpoint (a damaged one is reported and the one before it used) exactly where it stopped.
     */
    public static Summary run(RunConfig config, RunOptions options, TrainingListener listener) {
        long start = System.nanoTime();
        config = config.validated();
        try (RunDirectory dir = RunDirectory.open(options.outDir(), options.resume());
             RunSession s = RunSession.open(config, listener)) {
            Plan plan = s.plan();
            if (!dir.resuming()) {
                dir.copyRecipe(options.recipeFile());
                dir.writeJson("config.json", RunManifest.resolvedConfig(config, s.adalora == null ? null
                        : s.adalora.config(), s.modelDir, plan));
            }
            TrainingListener both = TrainingListener.all(listener, dir);
            TrainConfig tc = config.train();

            Map<String, Map<String, Double>> before = new LinkedHashMap<>();
            List<String> samplesBefore = null;
            AdaLoraHook adalora = s.adalora == null ? null : s.adalora.hook(plan.totalSteps());
            // AdaLoRA's hook keeps state that checkpoints hold; other adapters' hooks come from the contract
            StepHook hook = adalora != null ? new AdaLoraStepHook(adalora)
                    : s.adapter == null ? null : s.adapter.stepHook(plan.totalSteps());
            Optimizer optimizer = Optimizer.create(config.optimizer(), s.trainable());
            Trainer.Result result;
            int resumedFrom = 0;
            try {
                Checkpoints checkpoints = new Checkpoints(dir.checkpointsDir(), tc.keepCheckpoints(),
                        s.trainableByName(), optimizer, identity(config, plan));
                TrainState from = TrainState.start();
                if (dir.resuming()) {
                    Checkpoints.Loaded ckpt = checkpoints.newestValid(listener::onPhase);
                    if (ckpt == null) {
                        throw new CheckpointException("nothing to resume in " + dir.checkpointsDir());
                    }
                    listener.onPhase("resuming from " + ckpt.dir() + " (step " + ckpt.state().step() + " of "
                            + plan.totalSteps() + ")");
                    checkpoints.restore(ckpt, s.manager);
                    if (hook != null) {
                        checkpoints.restoreHook(ckpt, hook, s.manager);
                    }
                    dir.truncateMetricsAfter(ckpt.state().step());
                    from = ckpt.state();
                    resumedFrom = from.step();
                    before = dir.evals("before");
                } else if (options.evalBefore()) {
                    before = s.evaluateAll("before", both);
                    samplesBefore = generate(s, "before");
                }
                LrSchedule schedule = new LrSchedule(config.schedule(), config.optimizer().lr(), plan.totalSteps());
                result = fit(s, s.task, optimizer, both, checkpoints, hook, schedule, from);
                if (result.bestStep() > 0 && result.bestStep() != result.steps()) {
                    listener.onPhase("restoring the best checkpoint: step " + result.bestStep() + ", "
                            + tc.bestMetric() + " = " + result.bestValue());
                    restoreBest(checkpoints, dir.checkpointsDir().resolve(Checkpoints.name(result.bestStep())), s,
                            hook, adalora);
                }
            } finally {
                optimizer.close();
            }

            Map<String, Map<String, Double>> after = s.evaluateAll("after", both);
            List<GenerationSample> samples = samples(s.task.samplePrompts(), samplesBefore, generate(s, "after"));
            boolean full = s.adapter == null;
            listener.onPhase(full ? "saving the model" : "saving the adapter to " + dir.adapterDir());
            Path saved = s.save(dir.path(), dir.adapterDir());
            if (full) {
                listener.onPhase("saved the model to " + saved);
            }

            double[] losses = Summary.firstAndLast(result.losses());
            Summary summary = new Summary(dir.path(), plan.trainableParams(), plan.totalParams(), before, after,
                    result.steps(), (System.nanoTime() - start) / 1e9, result.seconds(), result.tokensPerSecond(),
                    MemoryStats.peakRssBytes(), samples, losses[0], losses[1]);
            ObjectNode json = (ObjectNode) RunManifest.summaryJson(summary, plan, config, result, resumedFrom);
            s.task.summary().forEach((k, v) -> json.set(k, RunManifest.JSON.valueToTree(v)));
            if (!samples.isEmpty()) {
                json.set("generations", RunManifest.JSON.valueToTree(samples));
            }
            if (s.adalora != null) {
                json.set("adalora", writeAllocation(s, adalora, dir, listener));
            }
            dir.writeJson("summary.json", json);
            listener.onPhase("writing metrics.csv, plots and report.html");
            RunReport.write(dir, config, summary);
            return summary;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /**
     * Puts the chosen checkpoint back for the evaluation and the adapter that follow: its weights and
     * its step hook's state, since AdaLoRA's mask belongs to the adapter as much as Λ does (without
     * it the adapter would be saved with the last step's ranks). The saved adapter holds only the
     * kept triplets (PEFT's {@code rank_pattern}), while between two allocations a pruned λ trains on;
     * its λ is zeroed so that the evaluation after training measures the adapter that is saved.
     */
    private static void restoreBest(Checkpoints checkpoints, Path best, RunSession s, StepHook hook,
                                    AdaLoraHook adalora) {
        checkpoints.restoreWeights(best, s.manager);
        if (hook != null) {
            checkpoints.restoreHook(checkpoints.check(best), hook, s.manager);
        }
        if (adalora != null) {
            adalora.allocator().applyMasks();
        }
    }

    /** Trains with the task's own batches: the capture of {@code task}'s batch type. */
    private static <B extends TrainBatch> Trainer.Result fit(RunSession s, TaskRun<B> task, Optimizer optimizer,
                                                            TrainingListener both, Checkpoints checkpoints,
                                                            StepHook hook, LrSchedule schedule, TrainState from) {
        TrainConfig tc = s.config.train();
        // the task's own step work where no adapter brings any (an embedding run has no AdaLoRA)
        Trainer<B> trainer = new Trainer<>(s.model, task.objective(), optimizer, tc, both, s.manager, checkpoints)
                .withHook(hook != null ? hook : task.stepHook(s.trainable(), both));
        return trainer.fit(task.trainingData(tc.batchSize(), tc.seed()), schedule, step -> validMetrics(s, both, step),
                from);
    }

    /** The task's generations for its sample prompts, announced and printed as they come; null without prompts. */
    private static List<String> generate(RunSession s, String when) {
        if (s.task.samplePrompts().isEmpty()) {
            return null;
        }
        s.listener.onPhase("generating for " + s.task.samplePrompts().size() + " sample prompts (" + when + ")");
        return s.task.samples();
    }

    private static List<GenerationSample> samples(List<String> prompts, List<String> before, List<String> after) {
        List<GenerationSample> out = new ArrayList<>();
        for (int i = 0; after != null && i < prompts.size(); i++) {
            out.add(new GenerationSample(prompts.get(i), before == null ? null : before.get(i), after.get(i)));
        }
        return out;
    }

    /** Where the budget went: a table for the log, PNGs and a JSON part of the summary. */
    private static ObjectNode writeAllocation(RunSession s, AdaLoraHook hook, RunDirectory dir,
                                             TrainingListener listener) throws IOException {
        AllocationReport allocation = hook.report();
        Map<String, Integer> ranks = s.adalora.ranks();
        int initR = s.adalora.config().initR();
        String table = AllocationReport.table(ranks, initR) + String.format("pruned, then kept again at a later"
                + " allocation: %d triplets, %d times%n", hook.allocator().returnedTriplets(), allocation.returns());
        listener.onPhase("AdaLoRA final ranks (layer × module):\n" + table);
        java.nio.file.Files.writeString(dir.path().resolve("adalora-ranks.txt"), table);
        allocation.write(ranks, initR, dir.path());
        ObjectNode n = RunManifest.JSON.createObjectNode();
        n.put("initial_budget", s.adalora.allocator().schedule().initialBudget());
        n.put("final_budget", s.adalora.allocator().schedule().finalBudget());
        n.put("kept", ranks.values().stream().mapToInt(Integer::intValue).sum());
        n.put("returns", allocation.returns());
        n.put("returned_triplets", hook.allocator().returnedTriplets());
        n.set("returns_per_module", RunManifest.JSON.valueToTree(hook.allocator().returnsPerLayer()));
        n.put("budget_csv", AllocationReport.BUDGET_CSV);
        n.set("ranks", RunManifest.JSON.valueToTree(ranks));
        n.put("heatmap", AllocationReport.HEATMAP);
        n.put("budget_plot", AllocationReport.BUDGET);
        return n;
    }

    /** The task's evaluations during training after a step, told to the listeners and returned as "split.metric". */
    private static Map<String, Double> validMetrics(RunSession s, TrainingListener to, int step) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String split : s.task.evalDuringTraining()) {
            Map<String, Double> m = s.task.evaluate(split, s.config.train().evalBatchSize());
            to.onEval(split, "step " + step, m);
            m.forEach((k, v) -> out.put(split + "." + k, v));
        }
        return out;
    }

    /** What a resumed run must share with the checkpoint it continues, or it would not continue it. */
    private static Map<String, Object> identity(RunConfig config, Plan plan) {
        Map<String, Object> id = new LinkedHashMap<>();
        id.put("seed", config.train().seed());
        id.put("batch_size", config.train().batchSize());
        id.put("grad_accum", config.train().gradAccum());
        id.put("total_steps", plan.totalSteps());
        id.put("train_examples", plan.splits().get("train").get("examples"));
        id.put("trainable_params", plan.trainableParams());
        return id;
    }
}
