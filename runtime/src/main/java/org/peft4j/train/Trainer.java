package org.peft4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.peft4j.data.Batch;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.tensor.StepScope;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The training loop: per optimizer step, {@code gradAccum} forward/backward passes whose gradients
 * add up, then clipping, one optimizer update at the scheduled learning rate, and zeroed gradients.
 */
public final class Trainer {

    /** What a finished loop did; {@code seconds} excludes time spent evaluating. */
    public record Result(int steps, double seconds, long tokens, List<Double> losses) {
        public double tokensPerSecond() {
            return seconds == 0 ? 0 : tokens / seconds;
        }
    }

    private final Module model;
    private final Objective objective;
    private final Optimizer optimizer;
    private final TrainConfig config;
    private final TrainingListener listener;
    private final NDManager manager;

    public Trainer(Module model, Objective objective, Optimizer optimizer, TrainConfig config,
                   TrainingListener listener, NDManager manager) {
        this.model = model;
        this.objective = objective;
        this.optimizer = optimizer;
        this.config = config;
        this.listener = listener;
        this.manager = manager;
    }

    public static int stepsPerEpoch(int batchesPerEpoch, int gradAccum) {
        return (batchesPerEpoch + gradAccum - 1) / gradAccum;
    }

    public static int totalSteps(TrainConfig config, int batchesPerEpoch) {
        int all = stepsPerEpoch(batchesPerEpoch, config.gradAccum()) * config.epochs();
        return config.maxSteps() > 0 ? Math.min(all, config.maxSteps()) : all;
    }

    /**
     * Trains over {@code data}; after every {@code evalEvery}-th step {@code evalHook} gets the
     * step number (the caller evaluates, in eval mode, and the loop returns to training mode).
     */
    public Result fit(BatchSource data, LrSchedule schedule, IntConsumer evalHook) {
        int batches = data.batchesPerEpoch();
        int total = totalSteps(config, batches);
        List<Parameter> params = optimizer.parameters();
        List<Double> losses = new ArrayList<>();
        listener.onTrainStart(total);
        long start = System.nanoTime();
        long tokens = 0;
        long evalNanos = 0;
        int step = 0;
        try {
            for (int epoch = 1; epoch <= config.epochs() && step < total; epoch++) {
                Iterator<Batch> it = data.epoch(epoch, 0, manager);
                int left = batches;
                while (it.hasNext() && step < total) {
                    long stepStart = System.nanoTime();
                    int micro = Math.min(config.gradAccum(), left);
                    left -= micro;
                    double lr = schedule.lr(step);
                    double lossSum = 0;
                    long stepTokens = 0;
                    model.train(true);
                    // one scope per step: activations, gradients views and the batch die here
                    try (StepScope scope = new StepScope()) {
                        for (int k = 0; k < micro && it.hasNext(); k++) {
                            Batch batch = it.next();
                            stepTokens += batch.tokens();
                            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                                NDArray loss = objective.loss(batch);
                                // the mean over micro-batches, so accumulation matches one large batch
                                gc.backward(micro == 1 ? loss : loss.div(micro));
                                lossSum += loss.getFloat();
                            }
                        }
                        double loss = lossSum / micro;
                        if (!Double.isFinite(loss)) {
                            throw new TrainingException("the training loss became " + loss + " at step " + (step + 1)
                                    + " (epoch " + epoch + "); lower the learning rate or enable clipping (clipNorm)");
                        }
                        if (config.clipNorm() > 0) {
                            GradientClipping.clip(params, config.clipNorm());
                        }
                        optimizer.step(lr);
                        optimizer.zeroGrad();
                        step++;
                        tokens += stepTokens;
                        losses.add(loss);
                        double elapsed = (System.nanoTime() - start - evalNanos) / 1e9;
                        listener.onStep(new StepInfo(step, total, epoch, loss, lr, stepTokens, tokens / elapsed,
                                (System.nanoTime() - stepStart) / 1e9));
                    }
                    if (config.evalEvery() > 0 && step % config.evalEvery() == 0 && step < total) {
                        long evalStart = System.nanoTime();
                        model.train(false);
                        evalHook.accept(step);
                        evalNanos += System.nanoTime() - evalStart;
                    }
                }
            }
        } finally {
            model.train(false);
            listener.onTrainEnd();
        }
        return new Result(step, (System.nanoTime() - start - evalNanos) / 1e9, tokens, losses);
    }
}
