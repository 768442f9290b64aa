package org.peft4j.repl

import org.peft4j.run.Summary
import org.peft4j.train.TrainingListener

import java.nio.file.Path
import java.util.concurrent.atomic.AtomicBoolean

/**
 * What the verbs need from their host: where to print, the sandbox choice for loaded recipes (as
 * {@code peft4j run}'s {@code --allow-code} and {@code --recipe-timeout}), how progress and a finished run are
 * shown, how a merge runs, and the flag Ctrl-C raises to stop a running {@code train}.
 */
class ReplContext {

    final PrintWriter out
    final boolean allowCode
    final int recipeTimeout
    /** A progress listener printing to the REPL's output: a bar on a terminal, plain lines otherwise. */
    final Closure<TrainingListener> progress
    /** A finished run's result table, as {@code peft4j run} prints it. */
    final Closure<String> report
    /** Runs {@code peft4j merge} with these arguments; returns its exit code. */
    final Closure<Integer> merge
    /** Raised by Ctrl-C while a verb runs; {@code train} stops after the step in progress. */
    final AtomicBoolean interrupted = new AtomicBoolean()
    /** Sessions opened so far, closed when the REPL ends. */
    final List<ReplSession> sessions = []
    /** Where inline recipes are written, so that a run directory can keep a copy. */
    final Path scratch
    int inline

    ReplContext(PrintWriter out, boolean allowCode, int recipeTimeout, Closure<TrainingListener> progress,
                Closure<String> report, Closure<Integer> merge, Path scratch) {
        this.out = out
        this.allowCode = allowCode
        this.recipeTimeout = recipeTimeout
        this.progress = progress
        this.report = report
        this.merge = merge
        this.scratch = scratch
    }

    String report(Summary s) {
        report.call(s)
    }
}
