package org.peft4j.run;

import org.peft4j.config.ConfigException;
import org.peft4j.io.FileTrees;
import org.peft4j.nn.Module;
import org.peft4j.peft.AdapterModel;
import org.peft4j.peft.files.PeftAdapters;
import org.peft4j.tensor.Backend;
import org.peft4j.train.LrSchedule;
import org.peft4j.train.Optimizer;
import org.peft4j.train.StepHook;
import org.peft4j.train.TrainBatch;
import org.peft4j.train.TrainConfig;
import org.peft4j.train.Trainer;
import org.peft4j.train.TrainingListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A run's end checked before the run ({@code peft4j run --preflight}): one optimizer step, the adapter saved
 * to a scratch directory, loaded back into a fresh copy of the base model, merged there; the outputs of the
 * first few training examples compared at each stage. A recipe whose adapter would not save, load or merge
 * faithfully fails in a minute instead of after hours of training. Nothing is left on disk.
 *
 * <p>The step runs the adapter's own step work as a run would (AdaLoRA's regularizer and importance; its first
 * allocation comes after {@code tinit} steps, so the saved adapter has its full initial rank).
 */
public final class Preflight {

    /** Training examples whose outputs are compared. */
    static final int INPUTS = 4;

    private Preflight() {
    }

    /**
     * @param step   the training loss of the one step
     * @param moved  outputs after the step against before it: how much there is for the checks below to lose
     * @param reload outputs of the reloaded adapter against the trained model's (save and load round trip)
     * @param merge  outputs of the merged model against the unmerged reloaded one
     * @param half   whether the frozen weights are float16, which loosens the tolerance
     */
    public record Result(double step, MergeDifference moved, MergeDifference reload, MergeDifference merge,
                         boolean half) {

        /** Both differences within {@link MergeDifference#tolerance}. */
        public boolean passed() {
            return reload.acceptable(half) && merge.acceptable(half);
        }
    }

    /** Trains one step of {@code config}, saves, reloads and merges its adapter, and measures each. */
    public static Result run(RunConfig config, TrainingListener listener) {
        config = config.validated();
        if (config.lora() == null && config.adalora() == null) {
            throw new ConfigException(List.of("the pre-flight checks how an adapter saves, loads and merges, but this"
                    + " recipe has no lora or adalora block: it trains every weight; run it without --preflight"));
        }
        Path scratch;
        try {
            scratch = Files.createTempDirectory("peft4j-preflight-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a scratch directory for the pre-flight", e);
        }
        try (RunSession s = RunSession.open(config, listener)) {
            float[][] untrained = s.task.outputs(s.model, INPUTS);
            double loss = oneStep(s, s.task, listener);
            float[][] trained = s.task.outputs(s.model, INPUTS);
            Path adapterDir = s.save(scratch, scratch.resolve("adapter"));
            listener.onPhase("saved the adapter to " + adapterDir + "; loading it into a fresh copy of the base model");
            Module fresh = s.task.loadBase();
            try {
                AdapterModel reloadedAdapter = PeftAdapters.load(adapterDir, fresh, s.manager);
                HalfPrecision.apply(Backend.get(), fresh, TrainingListener.NONE);
                float[][] reloaded = s.task.outputs(fresh, INPUTS);
                listener.onPhase("merging it");
                reloadedAdapter.merge();
                float[][] merged = s.task.outputs(fresh, INPUTS);
                boolean half = HalfPrecision.isHalf(config.backend().dtype());
                return new Result(loss, MergeDifference.of(untrained, trained), MergeDifference.of(trained, reloaded),
                        MergeDifference.of(reloaded, merged), half);
            } finally {
                // the parameters live in the engine's long-lived manager
                fresh.namedParameters().values().forEach(p -> p.value().close());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        } finally {
            try {
                FileTrees.deleteRecursively(scratch);
            } catch (IOException e) {
                listener.onPhase("could not delete the pre-flight's scratch directory " + scratch + ": " + e.getMessage());
            }
        }
    }

    /** The run's first optimizer step, at the learning rate the run would use; returns its loss. */
    private static <B extends TrainBatch> double oneStep(RunSession s, TaskRun<B> task, TrainingListener listener) {
        TrainConfig tc = s.config.train();
        Plan plan = s.plan();
        try (Optimizer optimizer = Optimizer.create(s.config.optimizer(), s.trainable())) {
            LrSchedule schedule = new LrSchedule(s.config.schedule(), s.config.optimizer().lr(), plan.totalSteps());
            StepHook hook = s.adapter.stepHook(plan.totalSteps());
            Trainer<B> trainer = new Trainer<>(s.model, task.objective(), optimizer, tc.withMaxSteps(1, 1), listener,
                    s.manager, null).withHook(hook != null ? hook : task.stepHook(s.trainable(), listener));
            return trainer.fit(task.trainingData(tc.batchSize(), tc.seed()), schedule, step -> Map.of())
                    .losses().get(0);
        }
    }

}
