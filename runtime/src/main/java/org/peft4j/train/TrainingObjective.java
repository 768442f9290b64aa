package org.peft4j.train;

import ai.djl.ndarray.NDArray;

/**
 * The training loss of a task on its own kind of batch: a scalar built with the autograd graph.
 *
 * @param <B> the task's batch
 */
@FunctionalInterface
public interface TrainingObjective<B extends TrainBatch> {

    NDArray loss(B batch);

    /**
     * What {@link #loss} is a mean over in {@code batch}: its examples unless the objective says otherwise
     * (a causal LM's scored tokens). Data-parallel workers weigh their local means by it to get the global one.
     */
    default double weight(B batch) {
        return batch.examples();
    }
}
