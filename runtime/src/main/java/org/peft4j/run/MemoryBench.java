package org.peft4j.run;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import org.peft4j.train.LrSchedule;
import org.peft4j.train.Optimizer;
import org.peft4j.train.StepInfo;
import org.peft4j.train.TrainConfig;
import org.peft4j.train.Trainer;
import org.peft4j.train.TrainingListener;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Trains a run configuration for a fixed number of steps (epochs repeat as needed; no evaluation,
 * no checkpoints, nothing written) and prints the resident memory and the engine's live arrays
 * every few steps: memory that grows with the step count is a leak, and this shows it.
 */
public final class MemoryBench {

    /** One measurement. */
    public record Sample(int step, long rssBytes, int liveArrays, double stepSeconds) {
    }

    private MemoryBench() {
    }

    /** Runs {@code steps} optimizer steps of {@code config}, printing a sample every {@code every} steps. */
    public static List<Sample> run(RunConfig config, int steps, int every, PrintStream out) {
        if (steps < 1 || every < 1) {
            throw new IllegalArgumentException("bench needs steps >= 1 and every >= 1 (got steps = " + steps
                    + ", every = " + every + ")");
        }
        config = config.validated();
        List<Sample> samples = new ArrayList<>();
        try (RunSession s = RunSession.open(config, TrainingListener.NONE)) {
            Plan plan = s.plan();
            int epochs = (steps + plan.stepsPerEpoch() - 1) / plan.stepsPerEpoch();
            TrainConfig tc = config.train().withMaxSteps(steps, epochs);
            out.printf("memory bench: %s, %d steps (%d epochs of %d), batch %d, max length %d%n", config.name(), steps,
                    epochs, plan.stepsPerEpoch(), tc.batchSize(), config.data().maxLength());
            out.printf("%8s %10s %12s %10s%n", "step", "rss MiB", "live arrays", "step s");
            NDManager manager = s.manager;
            TrainingListener probe = new TrainingListener() {
                @Override
                public void onStep(StepInfo info) {
                    if (info.step() == 1 || info.step() % every == 0 || info.step() == steps) {
                        Sample sample = new Sample(info.step(), MemoryStats.rssBytes(), liveArrays(manager),
                                info.seconds());
                        samples.add(sample);
                        out.printf("%8d %10.1f %12d %10.3f%n", sample.step(), sample.rssBytes() / 1048576.0,
                                sample.liveArrays(), sample.stepSeconds());
                    }
                }
            };
            Optimizer optimizer = Optimizer.create(config.optimizer(), s.trainable());
            try {
                train(s, s.task, tc, optimizer, probe);
            } finally {
                optimizer.close();
            }
        }
        if (samples.size() > 1) {
            Sample first = samples.get(Math.min(1, samples.size() - 1));
            Sample last = samples.get(samples.size() - 1);
            long peak = samples.stream().mapToLong(Sample::rssBytes).max().orElse(-1);
            out.printf("rss %.1f MiB at step %d, %.1f MiB at step %d (%+.1f MiB), peak %.1f MiB; live arrays %d -> %d%n",
                    first.rssBytes() / 1048576.0, first.step(), last.rssBytes() / 1048576.0, last.step(),
                    (last.rssBytes() - first.rssBytes()) / 1048576.0, peak / 1048576.0, first.liveArrays(),
                    last.liveArrays());
        }
        return samples;
    }

    /** The task's batches through the shared loop, without evaluation or checkpoints. */
    private static <B extends org.peft4j.train.TrainBatch> void train(RunSession s, TaskRun<B> task, TrainConfig tc,
                                                                       Optimizer optimizer, TrainingListener probe) {
        org.peft4j.train.TrainingData<B> data = task.trainingData(tc.batchSize(), tc.seed());
        LrSchedule schedule = new LrSchedule(s.config.schedule(), s.config.optimizer().lr(),
                Trainer.totalSteps(tc, data.batchesPerEpoch()));
        new Trainer<>(s.model, task.objective(), optimizer, tc, probe, s.manager, null)
                .fit(data, schedule, step -> Map.of());
    }

    /** Arrays the engine's long-lived manager (and its sub-managers) still holds. */
    static int liveArrays(NDManager manager) {
        return manager instanceof BaseNDManager ? ((BaseNDManager) manager).getManagedArrays().size() : -1;
    }
}
