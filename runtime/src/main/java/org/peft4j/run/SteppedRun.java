package org.peft4j.run;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.config.ConfigException;
import org.peft4j.data.Shard;
import org.peft4j.dist.DistributedException;
import org.peft4j.dist.ProcessGroup;
import org.peft4j.dist.World;
import org.peft4j.embedding.LossKind;
import org.peft4j.models.TaskType;
import org.peft4j.nn.Module;
import org.peft4j.peft.AdapterModel;
import org.peft4j.peft.adalora.AdaLoraHook;
import org.peft4j.peft.adalora.AdaLoraModel;
import org.peft4j.peft.adalora.AdaLoraStepHook;
import org.peft4j.train.CheckpointException;
import org.peft4j.train.Checkpoints;
import org.peft4j.train.LrSchedule;
import org.peft4j.train.Optimizer;
import org.peft4j.train.StepHook;
import org.peft4j.train.TrainBatch;
import org.peft4j.train.TrainConfig;
import org.peft4j.train.TrainState;
import org.peft4j.train.Trainer;
import org.peft4j.train.TrainingListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * A run kept open between calls, so that it trains a few steps at a time: {@link #train} continues from
 * where the last call stopped with the same weights, optimizer moments, adapter state, data position,
 * learning rate and dropout masks, so any split of the planned steps gives the numbers of one uninterrupted
 * run. {@link #finish} evaluates, saves and writes the run directory as {@link FineTune#run} does (which is
 * this class trained to the end in one call).
 *
 * <p>As one worker of a data-parallel job ({@link RunOptions#group()}), every worker opens the run alike and
 * trains its share of each batch; only rank 0 writes the run directory and reports, and {@link #finish} does
 * nothing on the other workers.
 */
public final class SteppedRun implements AutoCloseable {

    private final long start = System.nanoTime();
    private final RunConfig config;
    /** The run directory; null on workers other than rank 0, which never write it. */
    private final RunDirectory dir;
    private final Path outDir;
    private final ProcessGroup group;
    private final RunSession session;
    private final TrainingListener listener;
    private final TrainingListener both;
    private final Plan plan;
    private final AdaLoraHook adalora;
    private final StepHook hook;
    private final Optimizer optimizer;
    private final Checkpoints checkpoints;
    private final LrSchedule schedule;
    private final int resumedFrom;
    private final Map<String, Map<String, Double>> before;
    private final List<String> samplesBefore;
    private final List<Double> losses = new ArrayList<>();
    private final List<Double> rates = new ArrayList<>();
    private TrainState state;
    private Trainer.Result last;
    private Summary summary;

    private SteppedRun(RunConfig config, RunOptions options, TrainingListener listener) throws IOException {
        config = config.validated();
        this.config = config;
        this.listener = listener;
        this.group = options.group();
        this.outDir = options.outDir();
        World world = group.world();
        checkWorkers(config, world);
        boolean main = world.main();
        RunDirectory d = main ? RunDirectory.open(options.outDir(), options.resume()) : null;
        boolean resuming = main ? d.resuming() : RunDirectory.resumes(options.outDir());
        RunSession s = null;
        Optimizer o = null;
        try {
            s = RunSession.open(config, listener);
            this.plan = s.plan();
            long examples = plan.splits().get("train").getOrDefault("examples", Long.MAX_VALUE);
            if (examples < world.worldSize()) {
                throw new ConfigException(List.of("data.train has " + examples + " examples, fewer than the "
                        + world.worldSize() + " workers: each needs at least one; run fewer workers"));
            }
            if (main && !resuming) {
                d.copyRecipe(options.recipeFile());
                d.writeJson("config.json", RunManifest.resolvedConfig(config, s.adalora == null ? null
                        : s.adalora.config(), s.modelDir, plan));
            }
            TrainingListener rates = new TrainingListener() {
                @Override
                public void onStep(org.peft4j.train.StepInfo step) {
                    SteppedRun.this.rates.add(step.lr());
                }
            };
            this.both = main ? TrainingListener.all(listener, d, rates) : TrainingListener.all(listener, rates);
            if (main && world.distributed() && config.model().task() == TaskType.EMBEDDING
                    && config.embedding().loss() != LossKind.COSINE) {
                listener.onPhase("warning: " + config.embedding().loss().name().toLowerCase() + " takes its in-batch"
                        + " negatives from each worker's share of the batch (" + config.train().batchSize() + " / "
                        + world.worldSize() + " rows), not from the whole batch as one process does");
            }
            this.adalora = s.adalora == null ? null : s.adalora.hook(plan.totalSteps());
            // AdaLoRA's hook keeps state that checkpoints hold; other adapters' hooks come from the contract
            this.hook = adalora != null ? new AdaLoraStepHook(adalora)
                    : s.adapter == null ? null : s.adapter.stepHook(plan.totalSteps());
            o = Optimizer.create(config.optimizer(), s.trainable());
            this.checkpoints = new Checkpoints(options.outDir().resolve("checkpoints"), config.train().keepCheckpoints(),
                    s.trainableByName(), o, identity(config, plan)).writtenBy(world.worldSize());
            TrainState from = TrainState.start();
            Map<String, Map<String, Double>> evals = new LinkedHashMap<>();
            List<String> generated = null;
            if (resuming) {
                Checkpoints.Loaded ckpt = checkpoints.newestValid(listener::onPhase);
                if (ckpt == null) {
                    throw new CheckpointException("nothing to resume in " + checkpoints.dir());
                }
                listener.onPhase("resuming from " + ckpt.dir() + " (step " + ckpt.state().step() + " of "
                        + plan.totalSteps() + (ckpt.worldSize() == world.worldSize() ? ")"
                        : "; written by " + ckpt.worldSize() + " worker(s), continued by " + world.worldSize() + ")"));
                checkpoints.restore(ckpt, s.manager);
                if (hook != null) {
                    checkpoints.restoreHook(ckpt, hook, s.manager);
                }
                from = ckpt.state();
                if (main) {
                    d.truncateMetricsAfter(ckpt.state().step());
                    evals = d.evals("before");
                }
            } else if (options.evalBefore() && main) {
                evals = s.evaluateAll("before", both);
                generated = generate(s, "before");
            }
            agreeOnStart(world, from, options.outDir());
            this.state = from;
            this.resumedFrom = from.step();
            this.before = evals;
            this.samplesBefore = generated;
            this.schedule = new LrSchedule(config.schedule(), config.optimizer().lr(), plan.totalSteps());
            this.optimizer = o;
            this.session = s;
            this.dir = d;
        } catch (IOException | RuntimeException e) {
            if (o != null) {
                o.close();
            }
            if (s != null) {
                s.close();
            }
            if (d != null) {
                d.close();
            }
            throw e;
        }
    }

    /**
     * Resolves model, adapter and data, opens the run directory {@code options.outDir()} (resuming it from its
     * newest checkpoint with {@code options.resume()}, or when it holds an unfinished run) and evaluates the
     * untrained model when {@code options.evalBefore()}; trains nothing yet.
     */
    public static SteppedRun open(RunConfig config, RunOptions options, TrainingListener listener) {
        try {
            return new SteppedRun(config, options, listener);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /**
     * Trains the next {@code steps} optimizer steps of the plan (fewer at its end), or until {@code interrupted}
     * says so between two steps; a checkpoint is written where it stops. Returns what this call did.
     *
     * @throws IllegalStateException when the run is finished
     */
    public Trainer.Result train(int steps, BooleanSupplier interrupted) {
        if (summary != null) {
            throw new IllegalStateException("the run in " + dir.path() + " is finished (saved); open a new one to train again");
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps " + steps + " must be at least 1");
        }
        int until = (int) Math.min(Integer.MAX_VALUE, (long) state.step() + steps);
        last = fit(session.task, until, interrupted);
        state = last.state();
        losses.addAll(last.losses());
        return last;
    }

    /** Trains the rest of the plan. */
    public Trainer.Result trainToEnd() {
        return train(Integer.MAX_VALUE, () -> false);
    }

    private <B extends TrainBatch> Trainer.Result fit(TaskRun<B> task, int until, BooleanSupplier interrupted) {
        TrainConfig tc = config.train();
        // the task's own step work where no adapter brings any (an embedding run has no AdaLoRA)
        Trainer<B> trainer = new Trainer<>(session.model, task.objective(), optimizer, tc, both, session.manager,
                checkpoints).withHook(hook != null ? hook : task.stepHook(session.trainable(), both)).withGroup(group);
        World world = group.world();
        return trainer.fit(task.trainingData(tc.batchSize(), tc.seed(), new Shard(world.rank(), world.worldSize())),
                schedule, this::validMetrics, state, until, interrupted);
    }

    /** True once every planned step is done, or early stopping ended the training. */
    public boolean trained() {
        return state.step() >= plan.totalSteps() || last != null && last.stoppedEarly();
    }

    /**
     * Evaluates, saves the adapter (or the whole model) and writes summary.json, metrics.csv, the plots and
     * report.html; the best checkpoint's weights are restored first when the recipe tracks a best metric.
     * Training ends here, whether or not every planned step was done. On workers other than rank 0 it does
     * nothing and returns null: rank 0 holds the same weights and writes the results.
     */
    public Summary finish() {
        if (summary != null || dir == null) {
            return summary;
        }
        try {
            if (last == null) {
                // a run finished before any step of this process: its numbers are those of the state it resumed
                last = new Trainer.Result(state.step(), state.trainSeconds(), state.tokens(), List.of(), false,
                        state.bestStep(), state.bestValue(), state);
            }
            if (last.bestStep() > 0 && last.bestStep() != state.step()) {
                listener.onPhase("restoring the best checkpoint: step " + last.bestStep() + ", "
                        + config.train().bestMetric() + " = " + last.bestValue());
                restoreBest(dir.checkpointsDir().resolve(Checkpoints.name(last.bestStep())));
            }
            Map<String, Map<String, Double>> after = session.evaluateAll("after", both);
            List<GenerationSample> samples = samples(session.task.samplePrompts(), samplesBefore, generate(session, "after"));
            boolean full = session.adapter == null;
            listener.onPhase(full ? "saving the model" : "saving the adapter to " + dir.adapterDir());
            Path saved = session.save(dir.path(), dir.adapterDir());
            if (full) {
                listener.onPhase("saved the model to " + saved);
            }
            double[] firstLast = Summary.firstAndLast(losses);
            Summary s = new Summary(dir.path(), plan.trainableParams(), plan.totalParams(), before, after,
                    state.step(), (System.nanoTime() - start) / 1e9, state.trainSeconds(),
                    state.trainSeconds() == 0 ? 0 : state.tokens() / state.trainSeconds(),
                    MemoryStats.peakRssBytes(), samples, firstLast[0], firstLast[1]);
            Trainer.Result whole = new Trainer.Result(state.step(), state.trainSeconds(), state.tokens(), losses,
                    last.stoppedEarly(), last.bestStep(), last.bestValue(), state);
            ObjectNode json = (ObjectNode) RunManifest.summaryJson(s, plan, config, whole, resumedFrom);
            session.task.summary().forEach((k, v) -> json.set(k, RunManifest.JSON.valueToTree(v)));
            json.put("world_size", group.world().worldSize());
            if (!samples.isEmpty()) {
                json.set("generations", RunManifest.JSON.valueToTree(samples));
            }
            if (session.adalora != null) {
                json.set("adalora", AllocationSummary.write(session, adalora, dir, listener));
            }
            dir.writeJson("summary.json", json);
            listener.onPhase("writing metrics.csv, plots and report.html");
            RunReport.write(dir, config, s);
            summary = s;
            return s;
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
    private void restoreBest(Path best) {
        checkpoints.restoreWeights(best, session.manager);
        if (hook != null) {
            checkpoints.restoreHook(checkpoints.check(best), hook, session.manager);
        }
        if (adalora != null) {
            adalora.allocator().applyMasks();
        }
    }

    /** Writes loss.png, lr.png and eval.png of the steps so far into the run directory; returns their paths. */
    public List<Path> plot() {
        if (dir == null) {
            return List.of();
        }
        try {
            List<Path> out = new ArrayList<>();
            for (String name : Plots.write(dir.metricRows(), state.step(), dir.path())) {
                out.add(dir.path().resolve(name));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** Metrics of every evaluation split now ("valid", "test"; an embedding run's "retrieval", "sts"). */
    public Map<String, Map<String, Double>> evaluate() {
        return session.evaluateAll("step " + state.step(), both);
    }

    /** The model's logits for each text, as {@link #labels()} orders the classes; classification runs only. */
    public float[][] logits(List<String> texts) {
        return session.task.logits(texts);
    }

    /** The class names in class-id order; empty when the run does not classify. */
    public List<String> labels() {
        return session.task.labels();
    }

    /** A greedy continuation of {@code prompt}, as the run's sample prompts get; causal language models only. */
    public String generate(String prompt, int maxNewTokens) {
        return session.task.generate(prompt, maxNewTokens);
    }

    /** The whole model, adapters in place. */
    public Module model() {
        return session.model;
    }

    /** The adapter (LoRA or AdaLoRA), or null when the whole model trains. */
    public AdapterModel adapter() {
        return session.adapter;
    }

    /** AdaLoRA's current rank of each adapted module by path, or an empty map for other adapters. */
    public Map<String, Integer> adaLoraRanks() {
        AdaLoraModel a = session.adalora;
        return a == null ? Map.of() : a.ranks();
    }

    /** AdaLoRA's initial rank, or 0 for other adapters. */
    public int adaLoraInitialRank() {
        return session.adalora == null ? 0 : session.adalora.config().initR();
    }

    public RunConfig config() {
        return config;
    }

    public Plan plan() {
        return plan;
    }

    /** The run directory. */
    public Path path() {
        return dir == null ? outDir : dir.path();
    }

    /** Where the adapter is (or will be) saved (by rank 0). */
    public Path adapterDir() {
        return dir == null ? outDir.resolve("adapter") : dir.adapterDir();
    }

    /** The model directory the run loaded. */
    public Path modelDir() {
        return session.modelDir;
    }

    /** Where training stands: step, epoch, the latest evaluation. */
    public TrainState state() {
        return state;
    }

    /** The training loss of every step this process trained, in order. */
    public List<Double> losses() {
        return Collections.unmodifiableList(losses);
    }

    /** The learning rate of every step this process trained, in order. */
    public List<Double> learningRates() {
        return Collections.unmodifiableList(rates);
    }

    /** The evaluation of the untrained model ({@code before}), by split; empty when it was skipped. */
    public Map<String, Map<String, Double>> before() {
        return before;
    }

    /** The result of {@link #finish}, or null before it. */
    public Summary summary() {
        return summary;
    }

    private Map<String, Double> validMetrics(int step) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String split : session.task.evalDuringTraining()) {
            Map<String, Double> m = session.task.evaluate(split, config.train().evalBatchSize());
            both.onEval(split, "step " + step, m);
            m.forEach((k, v) -> out.put(split + "." + k, v));
        }
        return out;
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

    /** Every worker needs at least one example of each (global) batch. */
    private static void checkWorkers(RunConfig config, World world) {
        if (config.train().batchSize() < world.worldSize()) {
            throw new ConfigException(List.of("train.batchSize = " + config.train().batchSize() + " is the batch of"
                    + " all workers together, shared by " + world.worldSize() + " workers: each needs at least one"
                    + " example; make it at least " + world.worldSize() + " (or run fewer workers)"));
        }
    }

    /**
     * The workers must start from the same step, or their collectives would pair different batches: true
     * unless one of them could not see the run directory's checkpoints.
     */
    private void agreeOnStart(World world, TrainState from, Path out) {
        if (!world.distributed()) {
            return;
        }
        double sum = group.allReduceSum(from.step())[0];
        if (sum != (double) from.step() * world.worldSize()) {
            throw new DistributedException("rank " + world.rank() + " starts at step " + from.step() + " of " + out
                    + " but the " + world.worldSize() + " workers do not agree (their steps sum to " + (long) sum
                    + "); every worker must see the run directory's checkpoints: put --out on storage they share");
        }
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

    /** Frees the model, the optimizer's moments and the data, and closes the run directory's files. */
    @Override
    public void close() {
        try {
            optimizer.close();
            session.close();
        } finally {
            try {
                if (dir != null) {
                    dir.close();
                }
            } catch (IOException e) {
                listener.onPhase("warning: closing " + dir.path() + ": " + e.getMessage());
            }
        }
    }
}
