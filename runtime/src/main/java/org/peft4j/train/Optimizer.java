package org.peft4j.train;

import ai.djl.ndarray.NDArray;
import org.peft4j.nn.Parameter;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

    /** Updates taken so far (AdamW's bias correction depends on it). */
    int steps();

    /**
     * The state a checkpoint needs, by name ({@code m.0}, {@code v.0}, {@code momentum.0}: the
     * index is the parameter's position in {@link #parameters()}). The arrays are the live ones.
     */
    Map<String, NDArray> state();

    /** Puts back what {@link #state()} gave and the step count, copying values in place. */
    void loadState(Map<String, NDArray> state, int steps);

    /** Copies {@code saved} into the live {@code state} arrays, refusing a missing name or another shape. */
    static void copyInto(Map<String, NDArray> live, Map<String, NDArray> saved) {
        for (Map.Entry<String, NDArray> e : live.entrySet()) {
            NDArray s = saved.get(e.getKey());
            if (s == null) {
                throw new IllegalArgumentException("optimizer state '" + e.getKey() + "' is missing from the checkpoint;"
                        + " it has " + saved.keySet());
            }
            if (!s.getShape().equals(e.getValue().getShape())) {
                throw new IllegalArgumentException("optimizer state '" + e.getKey() + "' has shape " + s.getShape()
                        + " in the checkpoint but " + e.getValue().getShape() + " here: the checkpoint is from"
                        + " another model or adapter");
            }
            e.getValue().set(s.toByteBuffer());
        }
    }

    /** Arrays by {@code prefix.index}. */
    static Map<String, NDArray> indexed(String prefix, List<NDArray> arrays) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (int i = 0; i < arrays.size(); i++) {
            out.put(prefix + "." + i, arrays.get(i));
        }
        return out;
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
