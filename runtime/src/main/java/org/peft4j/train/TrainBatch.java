package org.peft4j.train;

/** What the training loop needs to know of any task's batch: its real tokens, for throughput. */
public interface TrainBatch {

    /** Real (non-padding) tokens in the batch. */
    long tokens();
}
