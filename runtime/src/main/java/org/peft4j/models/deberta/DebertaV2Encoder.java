package org.peft4j.models.deberta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.LayerStack;
import org.peft4j.nn.Embedding;
import org.peft4j.nn.LayerNorm;
import org.peft4j.nn.Module;
import org.peft4j.nn.ModuleList;

import java.util.ArrayList;
import java.util.List;

/**
 * DeBERTa's stack: {@code layer.N}, and with relative attention the table {@code rel_embeddings}
 * (2·span rows), LayerNormed by {@code LayerNorm} when {@code norm_rel_ebd} says so, which every layer reads.
 */
public final class DebertaV2Encoder extends Module {

    private final DebertaV2Config config;
    private final ModuleList<DebertaV2Layer> layers;

    public DebertaV2Encoder(NDManager manager, DebertaV2Config config) {
        this.config = config;
        List<DebertaV2Layer> list = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            list.add(new DebertaV2Layer(manager, config));
        }
        layers = addChild("layer", new ModuleList<>(list));
        if (config.relativeAttention()) {
            addChild("rel_embeddings", new Embedding(manager, 2L * config.attentionSpan(), config.hiddenSize()));
        }
        if (config.normRelEmbeddings()) {
            addChild("LayerNorm", new LayerNorm(manager, config.hiddenSize(), (float) config.layerNormEps()));
        }
    }

    /**
     * @param x              (B, T, H) the embeddings
     * @param mask           additive (B, 1, T, T), or null
     * @param relativeIndex  (T, T) table rows of the (query, key) pairs, or null without relative attention
     * @param inputOnGraph   x depends on trainable embeddings
     * @return (B, T, H)
     */
    public NDArray forward(NDArray x, NDArray mask, NDArray relativeIndex, boolean inputOnGraph) {
        // the table is read inside each layer's call, so a checkpointed layer re-run computes it from the parameters
        return LayerStack.forward(layers, x, inputOnGraph, false,
                (layer, h) -> layer.forward(h, mask, relEmbeddings(), relativeIndex));
    }

    /** The relative-embedding table as the layers read it (2·span, H), or null without relative attention. */
    private NDArray relEmbeddings() {
        if (!config.relativeAttention()) {
            return null;
        }
        NDArray table = ((Embedding) child("rel_embeddings")).weight().value();
        return config.normRelEmbeddings() ? ((LayerNorm) child("LayerNorm")).forward(table) : table;
    }
}
