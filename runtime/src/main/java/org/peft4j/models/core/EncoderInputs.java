package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** The checks every encoder makes of its inputs before a forward pass, with messages that say the fix. */
public final class EncoderInputs {

    private EncoderInputs() {
    }

    /**
     * @param inputIds      must be (B, T) with T ≤ {@code maxLength}
     * @param attentionMask null, or the shape of inputIds
     * @param tokenTypeIds  null, or the shape of inputIds
     * @return T
     */
    public static long check(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds, int maxLength) {
        Shape shape = inputIds.getShape();
        if (shape.dimension() != 2) {
            throw new IllegalArgumentException("inputIds must be (batch, length), got shape " + shape);
        }
        long t = shape.get(1);
        if (t > maxLength) {
            throw new IllegalArgumentException("sequence length " + t + " exceeds max_position_embeddings = "
                    + maxLength + "; truncate the input (data maxLength)");
        }
        for (NDArray a : new NDArray[] {attentionMask, tokenTypeIds}) {
            if (a != null && !a.getShape().equals(shape)) {
                throw new IllegalArgumentException("attentionMask and tokenTypeIds must have the shape of inputIds "
                        + shape + ", got " + a.getShape());
            }
        }
        return t;
    }
}
