package org.peft4j.models.core;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.peft4j.nn.Embedding;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;

/**
 * Weights for training from scratch, as transformers' {@code _init_weights} for Llama: every Linear
 * and Embedding weight drawn from N(0, σ²) with σ = config.json's initializer_range (0.02 by
 * default), biases zero; norms keep their weight of one. Layers are found by type, not by name.
 */
public final class RandomInit {

    public static final double DEFAULT_STD = 0.02;

    private RandomInit() {
    }

    /** Draws from the engine's generator, so the caller seeds it first for a repeatable model. */
    public static void apply(Module model, double std, NDManager manager) {
        for (Module m : model.namedModules().values()) {
            if (m instanceof Linear linear) {
                normal(linear.weight(), std, manager);
                if (linear.bias() != null) {
                    linear.bias().set(manager.zeros(linear.bias().value().getShape(), DataType.FLOAT32));
                }
            } else if (m instanceof Embedding embedding) {
                normal(embedding.weight(), std, manager);
            }
        }
    }

    private static void normal(Parameter p, double std, NDManager manager) {
        p.set(manager.randomNormal(0f, (float) std, p.value().getShape(), DataType.FLOAT32));
    }
}
