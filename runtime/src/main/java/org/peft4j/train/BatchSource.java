package org.peft4j.train;

import org.peft4j.data.Batch;

/** Encoder-task training batches ({@link Batch}), epoch by epoch, in a reproducible order. */
public interface BatchSource extends TrainingData<Batch> {
}
