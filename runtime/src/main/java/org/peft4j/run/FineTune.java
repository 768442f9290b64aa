package org.peft4j.run;

import org.peft4j.train.TrainingListener;

/**
 * Runs a {@link RunConfig}: the one entry point that the command line, the REPL and Java code share.
 * Reads top to bottom like a recipe: engine, model, adapter, data, (evaluate), train, evaluate, save;
 * {@link SteppedRun} is the same run trained a few steps at a time.
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
        try (SteppedRun run = SteppedRun.open(config, options, listener)) {
            run.trainToEnd();
            return run.finish();
        }
    }
}
