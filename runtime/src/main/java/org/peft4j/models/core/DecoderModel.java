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
import org.peft4j.tensor.Scalars;

import java.util.ArrayList;
import java.util.List;

/**
 * The decoder stack in Llama's layout, with Hugging Face names: {@code embed_tokens},
 * {@code layers.N}, {@code norm}. Returns the final normalised hidden states; {@link DecoderForCausalLM}
 * adds the head.
 */
public final class DecoderModel extends Module implements DecoderBackbone {

    private final DecoderConfig config;
    private final RotaryEmbedding rotary;
    private final RotaryEmbedding slidingRotary;
    private final ModuleList<DecoderLayer> layers;

    public DecoderModel(NDManager manager, DecoderConfig config) {
        this.config = config;
        this.rotary = new RotaryEmbedding(manager, config.headDim(), config.rope());
        this.slidingRotary = config.rope(LayerType.SLIDING_ATTENTION) == config.rope() ? null
                : new RotaryEmbedding(manager, config.headDim(), config.rope(LayerType.SLIDING_ATTENTION));
        addChild("embed_tokens", new Embedding(manager, config.vocabSize(), config.hiddenSize()));
        List<DecoderLayer> list = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            list.add(new DecoderLayer(manager, config, i));
        }
        layers = addChild("layers", new ModuleList<>(list));
        addChild("norm", DecoderLayer.norm(manager, config));
    }

    public DecoderConfig config() {
        return config;
    }

    public RotaryEmbedding rotary() {
        return rotary;
    }

    /** The rotary embedding of sliding-window layers (the same as {@link #rotary()} unless the family sets its own). */
    public RotaryEmbedding slidingRotary() {
        return slidingRotary == null ? rotary : slidingRotary;
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
    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache) {
        long t = inputIds.getShape().get(1);
        long past = cache == null ? 0 : cache.length();
        if (past + t > config.maxPositions()) {
            throw new IllegalArgumentException("sequence length " + (past + t) + " exceeds max_position_embeddings = "
                    + config.maxPositions() + "; truncate the input (data maxLength)");
        }
        NDManager m = inputIds.getManager();
        NDArray x = embedTokens().forward(inputIds);                                   // (B, T, H)
        if (config.options().embeddingScale() != 1) {
            x = Scalars.mul(x, config.options().embeddingScale());   // Gemma: √H, in the weights' dtype
        }
        NDArray positions = positionIds != null ? positionIds : Masks.positions(m, attentionMask, past, t);
        // in the hidden states' dtype, once per forward: with half-precision weights q and k stay half
        NDList rot = rotary.cosSin(positions);
        NDArray full = config.hasLayerType(LayerType.FULL_ATTENTION)
                ? Masks.causal(m, attentionMask, past, t, 0, DataType.FLOAT32) : null;  // (B|1, 1, T, S)
        NDArray sliding = config.hasLayerType(LayerType.SLIDING_ATTENTION)
                ? Masks.causal(m, attentionMask, past, t, config.slidingWindow(), DataType.FLOAT32) : null;
        NDArray cos = Precision.like(rot.get(0), x);                                   // (B, 1, T, hs)
        NDArray sin = Precision.like(rot.get(1), x);
        NDArray slidingCos = cos;
        NDArray slidingSin = sin;
        if (slidingRotary != null && sliding != null) {
            NDList local = slidingRotary.cosSin(positions);
            slidingCos = Precision.like(local.get(0), x);
            slidingSin = Precision.like(local.get(1), x);
        }
        AttentionContext ctx = new AttentionContext(full, sliding, cos, sin, slidingCos, slidingSin, cache);
        x = LayerStack.forward(layers, x, embedTokens().trainableParameterCount() > 0, cache != null,
                (layer, h) -> layer.forward(h, ctx));
        return ((RMSNorm) child("norm")).forward(x);
    }
}
