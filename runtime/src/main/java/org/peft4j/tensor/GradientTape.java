package org.peft4j.tensor;

import ai.djl.ndarray.NDArray;

/**
 * Records one forward pass for backward: open it, compute the loss, call {@link #backward}, close.
 * Only one may be open at a time; grad mode is on while it is open.
 */
public interface GradientTape extends AutoCloseable {

    /** Back-propagates from a scalar loss into every trainable parameter's gradient (accumulating). */
    void backward(NDArray loss);

    @Override
    void close();
}
