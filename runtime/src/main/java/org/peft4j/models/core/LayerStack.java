package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import org.peft4j.nn.Module;
import org.peft4j.nn.ModuleList;
import org.peft4j.tensor.ActivationCheckpoints;

import java.util.function.BiFunction;

/** Runs a stack of layers in order, each one checkpointed when training asks for it. */
public final class LayerStack {

    private LayerStack() {
    }

    /**
     * @param x            (B, T, H) the first layer's input
     * @param inputOnGraph x depends on trainable embeddings (see {@link ActivationCheckpoints#run})
     * @param cached       a KV cache is being filled: plain calls, since a cache is filled once and
     *                     a checkpointed layer would be run twice
     * @param layerForward one layer's forward pass
     * @return the last layer's output
     */
    public static <L extends Module> NDArray forward(ModuleList<L> layers, NDArray x, boolean inputOnGraph,
                                                     boolean cached, BiFunction<L, NDArray, NDArray> layerForward) {
        for (int i = 0; i < layers.size(); i++) {
            L layer = layers.get(i);
            x = cached ? layerForward.apply(layer, x)
                    : ActivationCheckpoints.run(h -> layerForward.apply(layer, h), x, inputOnGraph, i == layers.size() - 1);
        }
        return x;
    }
}
