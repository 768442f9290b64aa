package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import org.peft4j.tensor.Functional;

/**
 * Inverted dropout, active only in training mode; with p = 0 it is the identity and adds no op.
 * How the mask is drawn, and why, is {@link Functional#dropout}'s business.
 */
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
        return apply(x, p);
    }

    /** Dropout with probability {@code p} in (0, 1), whatever the mode of any module. */
    public static NDArray apply(NDArray x, float p) {
        return Functional.dropout(x, p);
    }
}
