package org.peft4j.train;

import org.peft4j.nn.Parameter;

import java.util.List;

/** Updates trainable parameters from their accumulated gradients. */
public interface Optimizer extends AutoCloseable {

    /** One update at learning rate {@code lr}; gradients are read, not cleared. */
    void step(double lr);

    /** The parameters this optimizer updates. */
    List<Parameter> parameters();

    /** Zeroes every gradient in place (libtorch accumulates them across backward passes). */
    default void zeroGrad() {
        parameters().forEach(Parameter::zeroGrad);
    }

    /** Frees the optimizer's state (moments, momentum buffers). */
    @Override
    void close();

    static Optimizer create(OptimizerConfig config, List<Parameter> parameters) {
        switch (config.kind()) {
            case ADAMW:
                return new AdamW(parameters, config.beta1(), config.beta2(), config.eps(), config.weightDecay());
            case SGD:
                return new Sgd(parameters, config.momentum(), config.weightDecay());
            default:
                throw new IllegalArgumentException("unknown optimizer " + config.kind());
        }
    }
}
