package org.peft4j.train;

import org.peft4j.tensor.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import org.peft4j.dist.ProcessGroup;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.tensor.ActivationCheckpoints;
import org.peft4j.tensor.Backend;
import org.peft4j.tensor.GradientTape;
import org.peft4j.tensor.StepScope;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The training loop: per optimizer step, {@code gradAccum} forward/backward passes whose gradients
 * add up, then clipping, one optimizer update at the scheduled learning rate, and zeroed gradients;
 * between steps, evaluation, best-metric tracking, early stopping and checkpoints.
 *
 * <p>Data-parallel over a {@link ProcessGroup} of N workers, each worker's batches hold its share of every
 * global batch. Each micro-batch's loss is the global mean (the workers sum their loss weights, examples or
 * scored tokens, first and scale their local means by localWeight · N / globalWeight); after the
 * micro-batches of a step the gradients are averaged across workers, so the step hook, clipping and the
 * update see the gradient of the global batch, and every worker takes the same update. Only rank 0 writes
 * checkpoints; every worker evaluates, so early stopping agrees.
 *
 * @param <B> the task's batch; the loop only needs its token count
 */
public final class Trainer<B extends TrainBatch> {

    /**
     * What a finished loop did; {@code seconds} excludes time spent evaluating and checkpointing,
     * and, after a resume, includes the time of the run before it. {@code losses} are this call's;
     * {@code state} is where the loop stands now, from which a later call continues.
     */
    public record Result(int steps, double seconds, long tokens, List<Double> losses, boolean stoppedEarly,
                         int bestStep, double bestValue, TrainState state) {
        public double tokensPerSecond() {
            return seconds == 0 ? 0 : tokens / seconds;
        }
    }

    /** Evaluates the model (already in eval mode) after {@code step}; metrics by "split.metric". */
    @FunctionalInterface
    public interface Evaluation {
        Map<String, Double> evaluate(int step);
    }

    /** Mixes the rank into the dropout seed: workers draw their own masks, rank 0 those of a single process. */
    private static final long RANK_SEED_STRIDE = 0x5DEECE66DL;

    private StepHook hook = new StepHook() { };
    private ProcessGroup group = ProcessGroup.single();
    private final Module model;
    private final TrainingObjective<B> objective;
    private final Optimizer optimizer;
    private final TrainConfig config;
    private final TrainingListener listener;
    private final NDManager manager;
    private final Checkpoints checkpoints;

    /** @param checkpoints where checkpoints go, or null for none */
    public Trainer(Module model, TrainingObjective<B> objective, Optimizer optimizer, TrainConfig config,
                   TrainingListener listener, NDManager manager, Checkpoints checkpoints) {
        this.model = model;
        this.objective = objective;
        this.optimizer = optimizer;
        this.config = config;
        this.listener = listener;
        this.manager = manager;
        this.checkpoints = checkpoints;
    }

    public static int stepsPerEpoch(int batchesPerEpoch, int gradAccum) {
        return (batchesPerEpoch + gradAccum - 1) / gradAccum;
    }

    public static int totalSteps(TrainConfig config, int batchesPerEpoch) {
        int all = stepsPerEpoch(batchesPerEpoch, config.gradAccum()) * config.epochs();
        return config.maxSteps() > 0 ? Math.min(all, config.maxSteps()) : all;
    }

    /** Calls {@code hook} inside every optimizer step; returns this trainer. */
    public Trainer<B> withHook(StepHook hook) {
        this.hook = hook == null ? new StepHook() { } : hook;
        return this;
    }

    /**
     * Trains as one worker of {@code group}: its batches must be its share of each global batch, and every
     * worker must call {@code fit} alike; returns this trainer.
     */
    public Trainer<B> withGroup(ProcessGroup group) {
        this.group = group == null ? ProcessGroup.single() : group;
        return this;
    }

    /** Trains from the beginning. */
    public Result fit(TrainingData<B> data, LrSchedule schedule, Evaluation eval) {
        return fit(data, schedule, eval, TrainState.start());
    }

    /**
     * Trains from {@code from} (a restored checkpoint's state, with weights and optimizer already
     * restored) to the planned last step. Every {@code evalEvery} steps {@code eval} runs in eval
     * mode; a new best of {@code bestMetric} is always checkpointed, so it can be restored.
     */
    public Result fit(TrainingData<B> data, LrSchedule schedule, Evaluation eval, TrainState from) {
        return fit(data, schedule, eval, from, Integer.MAX_VALUE, () -> false);
    }

    /**
     * Trains from {@code from} until step {@code until} (at most the planned last step), or until
     * {@code interrupted} says so between two steps. The steps, learning rates, dropout masks and
     * evaluations are those of an uninterrupted run, which the returned state continues exactly; a
     * checkpoint is written where the loop pauses, so the run directory resumes from there too.
     */
    public Result fit(TrainingData<B> data, LrSchedule schedule, Evaluation eval, TrainState from, int until,
                      BooleanSupplier interrupted) {
        int batches = data.batchesPerEpoch();
        int total = totalSteps(config, batches);
        int end = Math.min(total, until);
        List<Parameter> params = optimizer.parameters();
        List<Double> losses = new ArrayList<>();
        boolean distributed = group.world().distributed();
        int rank = group.world().rank();
        int workers = group.world().worldSize();
        // libtorch's grad mode is per thread and the engine turns it off only on the thread that started it; the
        // optimizer's in-place updates of leaf weights need it off on whichever thread trains
        Backend.get().setGradMode(false);
        listener.onTrainStart(total);
        long start = System.nanoTime();
        long pausedNanos = 0;
        TrainState state = from;
        boolean stop = false;
        try {
            boolean pause = false;
            for (int epoch = from.epoch(); epoch <= config.epochs() && state.step() < end && !stop && !pause; epoch++) {
                int next = epoch == from.epoch() ? from.batch() : 0;
                Iterator<B> it = data.epoch(epoch, next, manager);
                while (it.hasNext() && state.step() < end && !stop && !pause) {
                    long stepStart = System.nanoTime();
                    int step = state.step();
                    int micro = Math.min(config.gradAccum(), batches - next);
                    double lr = schedule.lr(step);
                    double lossSum = 0;
                    long stepTokens = 0;
                    model.train(true);
                    // dropout masks depend on (seed, step, rank) only, so a resumed run draws the same ones
                    Backend.get().seed(TrainState.dropoutSeed(config.seed(), step) + rank * RANK_SEED_STRIDE);
                    boolean stopAsked = false;
                    long commNanos = 0;
                    // one scope per step: activations, gradients views and the batch die here
                    try (StepScope scope = new StepScope()) {
                        for (int k = 0; k < micro && it.hasNext(); k++) {
                            B batch = it.next();
                            next++;
                            stepTokens += batch.tokens();
                            // this worker's part of the global mean: its local mean times weight / global weight
                            double share = 1;
                            if (distributed) {
                                double weight = objective.weight(batch);
                                long t0 = System.nanoTime();
                                double global = group.allReduceSum(weight)[0];
                                commNanos += System.nanoTime() - t0;
                                share = global == 0 ? 0 : weight / global;
                            }
                            boolean empty = batch.examples() == 0;
                            try (GradientTape gc = Backend.get().newGradientTape();
                                 ActivationCheckpoints tape = config.activationCheckpointing()
                                         ? ActivationCheckpoints.open() : null) {
                                // a worker whose share of a short last batch is empty still adds the hook's term
                                NDArray loss = empty ? null : objective.loss(batch);
                                NDArray extra = hook.extraLoss();
                                // × N: the gradients are averaged over the N workers afterwards
                                NDArray task = loss == null ? null : distributed ? Scalars.mul(loss, share * workers) : loss;
                                NDArray minimized = task == null ? extra : extra == null ? task : task.add(extra);
                                if (minimized != null) {
                                    // the mean over micro-batches, so accumulation matches one large batch
                                    gc.backward(micro == 1 ? minimized : Scalars.div(minimized, micro));
                                    if (tape != null) {
                                        tape.backward();
                                    }
                                }
                                // the reported loss is the task's alone, comparable with runs without the term
                                if (loss != null) {
                                    lossSum += distributed ? loss.getFloat() * share : loss.getFloat();
                                }
                            }
                        }
                        if (distributed) {
                            long t0 = System.nanoTime();
                            // one exchange per step: the global loss and tokens, and whether any worker was asked to pause
                            double[] sums = group.allReduceSum(lossSum, stepTokens, interrupted.getAsBoolean() ? 1 : 0);
                            lossSum = sums[0];
                            stepTokens = Math.round(sums[1]);
                            stopAsked = sums[2] > 0;
                            // before the hook (AdaLoRA's importance) and clipping, which must see the global gradient
                            group.allReduceMean(gradients(params));
                            commNanos += System.nanoTime() - t0;
                        }
                        double loss = lossSum / micro;
                        if (!Double.isFinite(loss)) {
                            throw new TrainingException("the training loss became " + loss + " at step " + (step + 1)
                                    + " (epoch " + epoch + "), so its update was not applied. "
                                    + lastGood() + "Lower the learning rate or enable clipping (clipNorm)");
                        }
                        // once per optimizer step, on the accumulated gradients: right under accumulation
                        hook.afterBackward(step + 1);
                        if (config.clipNorm() > 0) {
                            double norm = GradientClipping.clip(params, config.clipNorm());
                            if (!Double.isFinite(norm)) {
                                // clipping an infinite norm would write NaN into every weight
                                throw new TrainingException("the gradients became non-finite (norm " + norm
                                        + ") at step " + (step + 1) + " (epoch " + epoch + "), so its update was not"
                                        + " applied. " + lastGood() + "Lower the learning rate");
                            }
                        }
                        optimizer.step(lr);
                        hook.afterOptimizerStep(step + 1);
                        optimizer.zeroGrad();
                        losses.add(loss);
                        double elapsed = from.trainSeconds() + (System.nanoTime() - start - pausedNanos) / 1e9;
                        long tokens = state.tokens() + stepTokens;
                        state = new TrainState(step + 1, next == batches ? epoch + 1 : epoch, next == batches ? 0 : next,
                                tokens, elapsed, state.bestValue(), state.bestStep(), state.evalsSinceBest(),
                                state.lastEval());
                        listener.onStep(new StepInfo(step + 1, total, epoch, loss, lr, stepTokens, tokens / elapsed,
                                (System.nanoTime() - stepStart) / 1e9, commNanos / 1e9));
                    }
                    long pauseStart = System.nanoTime();
                    boolean newBest = false;
                    boolean last = state.step() == total;
                    boolean tracking = config.bestMetric() != null;
                    if (config.evalEvery() > 0 && state.step() % config.evalEvery() == 0 && (!last || tracking)) {
                        model.train(false);
                        Map<String, Double> metrics = eval.evaluate(state.step());
                        state = withEval(state, metrics);
                        newBest = state.bestStep() == state.step();
                        if (config.patience() > 0 && state.evalsSinceBest() >= config.patience()) {
                            stop = true;
                            listener.onPhase("early stopping at step " + state.step() + ": " + config.bestMetric()
                                    + " has not improved for " + state.evalsSinceBest() + " evaluations (best "
                                    + state.bestValue() + " at step " + state.bestStep() + ")");
                        }
                    }
                    pause = !last && (state.step() == end || (distributed ? stopAsked : interrupted.getAsBoolean()));
                    if (checkpoints != null && group.world().main() && (newBest || last || stop || pause
                            || config.checkpointEvery() > 0 && state.step() % config.checkpointEvery() == 0)) {
                        try {
                            Path saved;
                            // the hook may build arrays for its state; they are written, then freed here
                            try (NDScope hookScope = new NDScope()) {
                                saved = checkpoints.save(state, hook.state());
                            }
                            listener.onCheckpoint(saved, state.step());
                        } catch (CheckpointException e) {
                            // the run stops: going on would leave the user believing they can resume from here
                            throw new TrainingException(e.getMessage() + "; training stopped at step " + state.step());
                        }
                    }
                    pausedNanos += System.nanoTime() - pauseStart;
                }
            }
        } finally {
            model.train(false);
            listener.onTrainEnd();
        }
        return new Result(state.step(), state.trainSeconds(), state.tokens(), losses, stop, state.bestStep(),
                state.bestValue(), state);
    }

    /** The accumulated gradients of {@code params}, in their order (views: averaging them averages the gradients). */
    private static List<NDArray> gradients(List<Parameter> params) {
        List<NDArray> out = new ArrayList<>(params.size());
        for (int i = 0; i < params.size(); i++) {
            NDArray g = Backend.get().gradient(params.get(i).value());
            if (g == null) {
                throw new TrainingException("trainable parameter " + i + " (shape " + params.get(i).value().getShape()
                        + ") has no gradient after the step's backward passes, so the workers' gradients cannot be"
                        + " averaged");
            }
            out.add(g);
        }
        return out;
    }

    /** The state after an evaluation: last metrics, and the best so far by {@code bestMetric}. */
    private TrainState withEval(TrainState s, Map<String, Double> metrics) {
        double best = s.bestValue();
        int bestStep = s.bestStep();
        int since = s.evalsSinceBest();
        if (config.bestMetric() != null) {
            Double v = metrics.get(config.bestMetric());
            if (v == null) {
                throw new TrainingException("train.bestMetric '" + config.bestMetric() + "' is not among the"
                        + " evaluation's metrics " + metrics.keySet() + "; is there a validation set (data.valid)?");
            }
            if (config.mode().improves(v, best)) {
                best = v;
                bestStep = s.step();
                since = 0;
            } else {
                since++;
            }
        }
        return new TrainState(s.step(), s.epoch(), s.batch(), s.tokens(), s.trainSeconds(), best, bestStep, since,
                metrics);
    }

    private String lastGood() {
        if (checkpoints == null) {
            return "";
        }
        List<Path> saved = checkpoints.list();
        return saved.isEmpty() ? "No checkpoint had been written yet. "
                : "The last good checkpoint is " + saved.get(saved.size() - 1) + "; resume from it. ";
    }
}
