package org.peft4j.train;

import ai.djl.ndarray.NDArray;
import org.peft4j.data.Batch;

/** The training loss of a task: a scalar, mean over the batch's examples, built with the autograd graph. */
@FunctionalInterface
public interface Objective {

    NDArray loss(Batch batch);
}
