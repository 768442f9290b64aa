package org.peft4j.nn;

import ai.djl.ndarray.NDArray;

/** Anything that maps [..., in] to [..., out] like a linear layer: a plain {@link Linear} or an adapter around one. */
public interface LinearLayer {

    NDArray forward(NDArray x);

    long inFeatures();

    long outFeatures();
}
