package org.peft4j.run;

import org.peft4j.train.TrainingListener;

/** Runs a {@link RunConfig}: the one entry point that the command line, the REPL and Java code share. */
public final class FineTune {

    private FineTune() {
    }

    /** Resolves model, adapter and data, and reports what a run would do; trains nothing. */
    public static Plan plan(RunConfig config, TrainingListener listener) {
        throw new IllegalStateException("pending");
    }

    /** Trains, evaluates and writes the run directory. */
    public static Summary run(RunConfig config, RunOptions options, TrainingListener listener) {
        throw new IllegalStateException("pending");
    }
}
