package org.peft4j.nn;

import ai.djl.ndarray.NDArray;

/** Anything that maps [..., in] to [..., out] like a linear layer: a plain {@link Linear} or an adapter around one. */
public interface LinearLayer {

    NDArray forward(NDArray x);

    long inFeatures();

    long outFeatures();

    /**
     * How the weight is stored, in Hugging Face PEFT's term: true for [in, out] = (fan_in, fan_out),
     * as GPT-2's Conv1D stores it; false for PyTorch's [out, in]. An adapter that writes into the
     * weight (merge) must know which, and only the layer can say: a square weight looks the same
     * either way.
     */
    default boolean fanInFanOut() {
        return false;
    }
}
