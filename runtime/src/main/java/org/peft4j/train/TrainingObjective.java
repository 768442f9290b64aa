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
}
