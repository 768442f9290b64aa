package org.peft4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.peft4j.tensor.ComputePrecision;
import org.peft4j.tensor.Functional;
import org.peft4j.tensor.StepScope;

/** The matrix-multiply throughput of this machine through the same engine: the ceiling a step can approach. */
public final class GemmPeak {

    private GemmPeak() {
    }

    /** Median GFLOP/s of an n×n by n×n product (2n³ flops) in float32, after warm-up. */
    public static double gflops(NDManager manager, int n, int repeats) {
        return gflops(manager, n, repeats, ComputePrecision.FLOAT32);
    }

    /**
     * Median GFLOP/s of an n×n by n×n product through {@link Functional#linear} in {@code precision}: in
     * bfloat16 that includes the casts of both operands and of the result, as every bfloat16 product of a step
     * pays them.
     */
    public static double gflops(NDManager manager, int n, int repeats, ComputePrecision precision) {
        ComputePrecision before = ComputePrecision.current();
        ComputePrecision.use(precision);
        try (StepScope scope = new StepScope()) {
            NDArray a = manager.randomNormal(new Shape(n, n));
            NDArray b = manager.randomNormal(new Shape(n, n));
            Timing t = Timing.measure(3, repeats, () -> {
                try (StepScope s = new StepScope()) {
                    // one element read back forces the product to finish before the clock stops
                    Functional.linear(a, b, null).get(0, 0).getFloat();
                }
            });
            return 2.0 * n * n * n / t.median() / 1e9;
        } finally {
            ComputePrecision.use(before);
        }
    }
}
