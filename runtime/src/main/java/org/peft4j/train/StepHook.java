package org.peft4j.train;

import ai.djl.ndarray.NDArray;

/**
 * Work an adapter method does inside every optimizer step (AdaLoRA's regularizer, importance and
 * pruning). Steps are 1-based. All methods are optional.
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
}
