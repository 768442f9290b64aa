package org.peft4j.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

/**
 * A memory scope for one training or evaluation step. An op's result belongs to its first
 * operand's manager, so a per-step sub-manager alone leaks whenever a long-lived parameter comes
 * first; {@link NDScope} closes every array created inside it, whatever its manager.
 */
public final class StepScope implements AutoCloseable {

    private final NDScope scope = new NDScope();

    /** Keeps an array alive past the end of this step (moments, scores, kept results). */
    public static <T extends NDArray> T keep(T array) {
        NDScope.unregister(array);
        return array;
    }

    @Override
    public void close() {
        scope.close();
    }
}
