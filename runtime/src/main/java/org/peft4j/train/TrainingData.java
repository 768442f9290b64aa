package org.peft4j.train;

import ai.djl.ndarray.NDManager;

import java.util.Iterator;

/**
 * Training batches of a task, epoch by epoch, in a reproducible order.
 *
 * @param <B> the task's batch
 */
public interface TrainingData<B extends TrainBatch> {

    /** Batches per epoch. */
    int batchesPerEpoch();

    /**
     * The batches of 1-based {@code epoch}, starting at batch {@code skip}; each batch's arrays are
     * created in {@code manager} when {@code next()} is called, so a step scope around it frees them.
     */
    Iterator<B> epoch(int epoch, int skip, NDManager manager);

    /** Training data of {@code batchesPerEpoch} batches an epoch, whose epochs {@code epochs} gives. */
    static <B extends TrainBatch> TrainingData<B> of(int batchesPerEpoch, Epochs<B> epochs) {
        return new TrainingData<>() {
            @Override
            public int batchesPerEpoch() {
                return batchesPerEpoch;
            }

            @Override
            public Iterator<B> epoch(int epoch, int skip, NDManager manager) {
                return epochs.epoch(epoch, skip, manager);
            }
        };
    }

    /** An epoch's batches, as {@link #epoch}. */
    @FunctionalInterface
    interface Epochs<B> {
        Iterator<B> epoch(int epoch, int skip, NDManager manager);
    }
}
