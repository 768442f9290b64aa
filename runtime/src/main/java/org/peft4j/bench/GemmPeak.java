package org.peft4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.peft4j.tensor.StepScope;

/** The fp32 matrix-multiply throughput of this machine through the same engine: the ceiling a step can approach. */
public final class GemmPeak {

    private GemmPeak() {
    }

    /** Median GFLOP/s of an n×n by n×n product (2n³ flops), after warm-up. */
    public static double gflops(NDManager manager, int n, int repeats) {
        try (StepScope scope = new StepScope()) {
            NDArray a = manager.randomNormal(new Shape(n, n));
            NDArray b = manager.randomNormal(new Shape(n, n));
            Timing t = Timing.measure(3, repeats, () -> {
                try (StepScope s = new StepScope()) {
                    // toFloatArray of one element forces the product to finish before the clock stops
                    a.matMul(b).get(0, 0).getFloat();
                }
            });
            return 2.0 * n * n * n / t.median() / 1e9;
        }
    }
}
