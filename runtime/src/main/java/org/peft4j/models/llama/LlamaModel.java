package org.peft4j.models.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.peft4j.models.CausalMask;
import org.peft4j.models.KvCache;
import org.peft4j.nn.Embedding;
import org.peft4j.nn.Module;
import org.peft4j.nn.ModuleList;
import org.peft4j.nn.RMSNorm;
import org.peft4j.tensor.ActivationCheckpoints;
import org.peft4j.tensor.Precision;

import java.util.ArrayList;
import java.util.List;

/**
 * The Llama decoder stack with Hugging Face names: {@code embed_tokens}, {@code layers.N},
 * {@code norm}. Returns the final normalised hidden states; {@link LlamaForCausalLM} adds the head.
 */
public final class LlamaModel extends Module {

    private final LlamaConfig config;
    private final RotaryEmbedding rotary;
    private final ModuleList<LlamaDecoderLayer> layers;

    public LlamaModel(NDManager manager, LlamaConfig config) {
        this.config = config;
        this.rotary = new RotaryEmbedding(manager, config.headDim(), config.ropeTheta(), config.ropeScaling());
        addChild("embed_tokens", new Embedding(manager, config.vocabSize(), config.hiddenSize()));
        List<LlamaDecoderLayer> list = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            list.add(new LlamaDecoderLayer(manager, config, i));
        }
        layers = addChild("layers", new ModuleList<>(list));
        addChild("norm", new RMSNorm(manager, config.hiddenSize(), (float) config.rmsNormEps()));
    }

    public LlamaConfig config() {
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
     * @param positionIds   (B, T), or null to derive them from the mask (see {@link CausalMask#positions})
     * @param cache         or null
     * @return (B, T, H)
     */
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache) {
        long t = inputIds.getShape().get(1);
        long past = cache == null ? 0 : cache.length();
        if (past + t > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence length " + (past + t) + " exceeds max_position_embeddings = "
                    + config.maxPositionEmbeddings() + "; truncate the input (data maxLength)");
        }
        NDManager m = inputIds.getManager();
        NDArray x = embedTokens().forward(inputIds);                                   // (B, T, H)
        NDArray positions = positionIds != null ? positionIds : CausalMask.positions(m, attentionMask, past, t);
        // in the hidden states' dtype, once per forward: with half-precision weights q and k stay half
        NDList rot = rotary.cosSin(positions);
        NDList cosSin = new NDList(Precision.like(rot.get(0), x), Precision.like(rot.get(1), x)); // 2 × (B, 1, T, hs)
        NDArray mask = CausalMask.additive(m, attentionMask, past, t, DataType.FLOAT32); // (B|1, 1, T, S)
        boolean embeddingsTrain = embedTokens().trainableParameterCount() > 0;
        for (int i = 0; i < layers.size(); i++) {
            LlamaDecoderLayer layer = layers.get(i);
            if (cache == null) {
                // training: the layer may be checkpointed (a cache is filled once, so it is never re-run)
                x = ActivationCheckpoints.run(h -> layer.forward(h, cosSin.get(0), cosSin.get(1), mask, null), x,
                        embeddingsTrain, i == layers.size() - 1);
            } else {
                x = layer.forward(x, cosSin.get(0), cosSin.get(1), mask, cache);
            }
        }
        return ((RMSNorm) child("norm")).forward(x);
    }
}
