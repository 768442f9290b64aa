package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Module;
import org.peft4j.nn.ModuleList;
import org.peft4j.tensor.ActivationCheckpoints;

import java.util.ArrayList;
import java.util.List;

/** BERT's stack of post-LayerNorm encoder layers, under the HF path {@code encoder.layer.N}. */
public final class BertEncoder extends Module {

    private final ModuleList<BertLayer> layers;

    public BertEncoder(NDManager manager, BertConfig config) {
        List<BertLayer> list = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            list.add(new BertLayer(manager, config));
        }
        layers = addChild("layer", new ModuleList<>(list));
    }

    /**
     * (B, T, H) -> (B, T, H); {@code keysMask} as in {@link BertAttention#forward};
     * {@code inputOnGraph}: x depends on trainable embeddings (see {@link ActivationCheckpoints#run}).
     */
    public NDArray forward(NDArray x, NDArray keysMask, boolean inputOnGraph) {
        return LayerStack.forward(layers, x, inputOnGraph, false, (layer, h) -> layer.forward(h, keysMask));
    }
}
