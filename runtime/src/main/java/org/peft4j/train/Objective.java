package org.peft4j.train;

import org.peft4j.data.Batch;

/** The training loss of an encoder task on {@link Batch}: a scalar, mean over the batch's examples. */
@FunctionalInterface
public interface Objective extends TrainingObjective<Batch> {
}
