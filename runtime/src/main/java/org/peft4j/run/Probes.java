package org.peft4j.run;

import ai.djl.ndarray.NDArray;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Precision;
import org.peft4j.tensor.StepScope;

import java.util.Arrays;
import java.util.function.Supplier;

/** A model's outputs on a few examples as Java rows, so that two models' outputs can be compared after both are freed. */
public final class Probes {

    private Probes() {
    }

    /**
     * The output of {@code forward} on {@code model} as rows, computed with dropout off (no graph is open outside
     * training) and freed at once; the model's training mode is restored.
     */
    public static float[][] of(Module model, Supplier<NDArray> forward) {
        boolean wasTraining = model.isTraining();
        model.train(false);
        try (StepScope scope = new StepScope()) {
            return rows(forward.get());
        } finally {
            model.train(wasTraining);
        }
    }

    /** (n, ...) to n rows, each the example's outputs flattened; float32 whatever the model computed in. */
    static float[][] rows(NDArray out) {
        int n = (int) out.getShape().get(0);
        float[] flat = Precision.float32(out).toFloatArray();
        int width = flat.length / Math.max(1, n);
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) {
            rows[i] = Arrays.copyOfRange(flat, i * width, (i + 1) * width);
        }
        return rows;
    }
}
