package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.peft4j.nn.Embedding;
import org.peft4j.nn.Module;
import org.peft4j.nn.ModuleList;
import org.peft4j.nn.RMSNorm;
import org.peft4j.tensor.Precision;

import java.util.ArrayList;
import java.util.List;

/**
 * The decoder stack in Llama's layout, with Hugging Face names: {@code embed_tokens},
 * {@code layers.N}, {@code norm}. Returns the final normalised hidden states; {@link DecoderForCausalLM}
 * adds the head.
 */
public final class DecoderModel extends Module {

    private final DecoderConfig config;
    private final RotaryEmbedding rotary;
    private final ModuleList<DecoderLayer> layers;

    public DecoderModel(NDManager manager, DecoderConfig config) {
        this.config = config;
        this.rotary = new RotaryEmbedding(manager, config.headDim(), config.rope());
        addChild("embed_tokens", new Embedding(manager, config.vocabSize(), config.hiddenSize()));
        List<DecoderLayer> list = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            list.add(new DecoderLayer(manager, config, i));
        }
        layers = addChild("layers", new ModuleList<>(list));
        addChild("norm", new RMSNorm(manager, config.hiddenSize(), (float) config.rmsNormEps()));
    }

    public DecoderConfig config() {
        return config;
    }

    public RotaryEmbedding rotary() {
        return rotary;
    }

    public Embedding embedTokens() {
        return (Embedding) child("embed_tokens");
    }

    /**
     * @param inputIds      (B, T) new token ids
     * @param attentionMask (B, S) over cached + new positions, or null
     * @param positionIds   (B, T), or null to derive them from the mask (see {@link Masks#positions})
     * @param cache         or null
     * @return (B, T, H)
     */
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache) {
        long t = inputIds.getShape().get(1);
        long past = cache == null ? 0 : cache.length();
        if (past + t > config.maxPositions()) {
            throw new IllegalArgumentException("sequence length " + (past + t) + " exceeds max_position_embeddings = "
                    + config.maxPositions() + "; truncate the input (data maxLength)");
        }
        NDManager m = inputIds.getManager();
        NDArray x = embedTokens().forward(inputIds);                                   // (B, T, H)
        NDArray positions = positionIds != null ? positionIds : Masks.positions(m, attentionMask, past, t);
        // in the hidden states' dtype, once per forward: with half-precision weights q and k stay half
        NDList rot = rotary.cosSin(positions);
        NDArray full = config.hasLayerType(LayerType.FULL_ATTENTION)
                ? Masks.causal(m, attentionMask, past, t, 0, DataType.FLOAT32) : null;  // (B|1, 1, T, S)
        NDArray sliding = config.hasLayerType(LayerType.SLIDING_ATTENTION)
                ? Masks.causal(m, attentionMask, past, t, config.slidingWindow(), DataType.FLOAT32) : null;
        AttentionContext ctx = new AttentionContext(full, sliding, Precision.like(rot.get(0), x),
                Precision.like(rot.get(1), x), cache);                                  // cos, sin: (B, 1, T, hs)
        x = LayerStack.forward(layers, x, embedTokens().trainableParameterCount() > 0, cache != null,
                (layer, h) -> layer.forward(h, ctx));
        return ((RMSNorm) child("norm")).forward(x);
    }
}
