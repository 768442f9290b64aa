package org.peft4j.train;

import java.util.Map;

/**
 * Where a training loop stands between two optimizer steps: everything, besides weights and
 * optimizer state, that a checkpoint needs so that a resumed run continues exactly.
 *
 * <p>Data order is a function of (seed, epoch), so (epoch, batch) is the data position; dropout is
 * re-seeded from (seed, step) at the start of every step, and the learning rate is a function of
 * the step, so {@code step} is both the schedule position and the dropout generator's state.
 *
 * @param step           optimizer steps done
 * @param epoch          1-based epoch of the next batch
 * @param batch          0-based index, in that epoch, of the next batch
 * @param tokens         non-padding tokens trained on so far
 * @param trainSeconds   training time so far, evaluation and checkpointing excluded
 * @param bestValue      best value of the best metric so far (NaN: none yet)
 * @param bestStep       the step that reached {@code bestValue} (0: none)
 * @param evalsSinceBest evaluations since the best one, for early stopping
 * @param lastEval       the latest evaluation's metrics by "split.metric"
 */
public record TrainState(int step, int epoch, int batch, long tokens, double trainSeconds, double bestValue,
                         int bestStep, int evalsSinceBest, Map<String, Double> lastEval) {

    public TrainState {
        lastEval = Map.copyOf(lastEval);
    }

    /** Before the first step. */
    public static TrainState start() {
        return new TrainState(0, 1, 0, 0, 0, Double.NaN, 0, 0, Map.of());
    }

    /**
     * The libtorch seed for 0-based step {@code step}: the generator is re-seeded at every step, so
     * dropout masks depend on (seed, step) alone and a resumed run draws the same ones.
     */
    public static long dropoutSeed(long seed, int step) {
        return seed * 1_000_003L + step;
    }
}
