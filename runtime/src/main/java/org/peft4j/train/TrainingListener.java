package org.peft4j.train;

import java.util.Map;

/** What a run reports while it works; a progress bar, a log or a test listens. All methods are optional. */
public interface TrainingListener {

    /** A phase that takes a while and has no steps (loading, importing, evaluating). */
    default void onPhase(String message) {
    }

    /** Training begins: this many optimizer steps are planned. */
    default void onTrainStart(int totalSteps) {
    }

    /** One optimizer step is done. */
    default void onStep(StepInfo step) {
    }

    /** An evaluation finished: {@code split} is "valid" or "test"; {@code when} is e.g. "before", "step 100", "after". */
    default void onEval(String split, String when, Map<String, Double> metrics) {
    }

    /** Training ended (also when it stopped early). */
    default void onTrainEnd() {
    }

    TrainingListener NONE = new TrainingListener() {
    };
}
