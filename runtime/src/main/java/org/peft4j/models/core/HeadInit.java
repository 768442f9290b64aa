package org.peft4j.models.core;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.peft4j.nn.Linear;

import java.util.Random;

/**
 * Starting weights of a task head the checkpoint lacks, drawn in Java from the task's seed: the start
 * is then the same on every device, and libtorch's generator is neither used nor disturbed.
 */
public final class HeadInit {

    private HeadInit() {
    }

    /**
     * Weight ~ N(0, σ²), truncated to ±{@code cutoff}·σ when {@code cutoff} &gt; 0 (values outside
     * are drawn again, as {@code torch.nn.init.trunc_normal_}); bias zero.
     */
    public static void linear(Linear layer, double std, double cutoff, Random random, NDManager manager) {
        Shape shape = layer.weight().value().getShape();
        float[] w = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < w.length; i++) {
            double x;
            do {
                x = random.nextGaussian();
            } while (cutoff > 0 && Math.abs(x) > cutoff);
            w[i] = (float) (x * std);
        }
        layer.weight().set(manager.create(w, shape));
        if (layer.bias() != null) {
            layer.bias().set(manager.zeros(layer.bias().value().getShape()));
        }
    }
}
