package org.peft4j.train;

/** What the training loop needs to know of any task's batch: its real tokens, for throughput, and its examples. */
public interface TrainBatch {

    /** Examples (rows) in the batch; a worker's share of a short last batch may have none. */
    int examples();

    /** Real (non-padding) tokens in the batch. */
    long tokens();
}
