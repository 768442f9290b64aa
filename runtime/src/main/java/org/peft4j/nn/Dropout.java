package org.peft4j.nn;

import ai.djl.ndarray.NDArray;

/** Inverted dropout, active only in training mode; with p = 0 it is the identity and adds no op. */
public final class Dropout extends Module {

    private final float p;

    public Dropout(float p) {
        if (p < 0 || p >= 1) {
            throw new IllegalArgumentException("dropout probability " + p + " must be in [0, 1)");
        }
        this.p = p;
    }

    public float p() {
        return p;
    }

    public NDArray forward(NDArray x) {
        if (!isTraining() || p == 0f) {
            return x;
        }
        return ai.djl.nn.norm.Dropout.dropout(x, p, true).singletonOrThrow();
    }
}
