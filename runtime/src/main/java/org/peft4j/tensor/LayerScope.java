package org.peft4j.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

import java.util.function.Supplier;

/**
 * Runs one layer's forward in a scope of its own and hands only its result on to the enclosing
 * (step) scope. Every temporary the layer made has its handle released when the layer returns,
 * instead of living until the end of the step. That is safe under autograd: the graph holds its
 * own references to what backward needs (libtorch counts references), so the memory a step holds
 * at its peak becomes the tensors backward saves rather than every temporary of every layer.
 */
public final class LayerScope {

    /** Read once; {@code -Dpeft4j.layerScope=false} keeps every temporary to the end of the step (for A/B measurement). */
    static volatile boolean enabled = !"false".equals(System.getProperty("peft4j.layerScope"));

    private LayerScope() {
    }

    public static NDArray run(Supplier<NDArray> layer) {
        if (!enabled) {
            return layer.get();
        }
        NDArray out;
        try (NDScope scope = new NDScope()) {
            out = layer.get();
            NDScope.unregister(out);
        }
        // the result now belongs to the caller's scope, which frees it with the step
        NDScope.register(out);
        return out;
    }
}
