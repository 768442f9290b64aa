package org.peft4j.train;

import ai.djl.ndarray.NDArray;

/**
 * Work an adapter method does inside every optimizer step (AdaLoRA's regularizer, importance and
 * pruning), and the state it keeps between steps, which checkpoints hold. Steps are 1-based. All
 * methods are optional.
 */
public interface StepHook {

    /** A term added to each micro-batch's loss before backward (e.g. γ·R(P, Q)), or null. */
    default NDArray extraLoss() {
        return null;
    }

    /** All micro-batches of step {@code step} have added up their gradients; clipping and the update come next. */
    default void afterBackward(int step) {
    }

    /** The optimizer has updated the weights of step {@code step}; gradients are zeroed next. */
    default void afterOptimizerStep(int step) {
    }

    /**
     * What this hook carries between steps, for a checkpoint written after the latest step; new
     * arrays it creates belong to the caller's scope. {@link HookState#NONE} for a hook without state.
     */
    default HookState state() {
        return HookState.NONE;
    }

    /** Puts back a state that {@link #state()} gave, before the first step of a resumed run. */
    default void restore(HookState saved) {
    }
}
