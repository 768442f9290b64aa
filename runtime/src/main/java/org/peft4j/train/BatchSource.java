package org.peft4j.train;

import ai.djl.ndarray.NDManager;
import org.peft4j.data.Batch;

import java.util.Iterator;

/** Training batches, epoch by epoch, in a reproducible order. */
public interface BatchSource {

    /** Batches per epoch. */
    int batchesPerEpoch();

    /**
     * The batches of 1-based {@code epoch}, starting at batch {@code skip}; each batch's arrays are
     * created in {@code manager} when {@code next()} is called, so a step scope around it frees them.
     */
    Iterator<Batch> epoch(int epoch, int skip, NDManager manager);
}
