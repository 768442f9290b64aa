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

    /** A checkpoint of {@code step} was written, whole, to {@code dir}. */
    default void onCheckpoint(java.nio.file.Path dir, int step) {
    }

    /** Training ended (also when it stopped early). */
    default void onTrainEnd() {
    }

    TrainingListener NONE = new TrainingListener() {
    };

    /** Tells every one of {@code listeners}, in order. */
    static TrainingListener all(TrainingListener... listeners) {
        java.util.List<TrainingListener> ls = java.util.List.of(listeners);
        return new TrainingListener() {
            @Override
            public void onPhase(String message) {
                ls.forEach(l -> l.onPhase(message));
            }

            @Override
            public void onTrainStart(int totalSteps) {
                ls.forEach(l -> l.onTrainStart(totalSteps));
            }

            @Override
            public void onStep(StepInfo step) {
                ls.forEach(l -> l.onStep(step));
            }

            @Override
            public void onEval(String split, String when, Map<String, Double> metrics) {
                ls.forEach(l -> l.onEval(split, when, metrics));
            }

            @Override
            public void onCheckpoint(java.nio.file.Path dir, int step) {
                ls.forEach(l -> l.onCheckpoint(dir, step));
            }

            @Override
            public void onTrainEnd() {
                ls.forEach(TrainingListener::onTrainEnd);
            }
        };
    }
}
