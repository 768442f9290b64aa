package org.peft4j.models.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.CausalLm;
import org.peft4j.models.CheckpointFiles;
import org.peft4j.models.KvCache;
import org.peft4j.models.WeightLoader;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Backend;
import org.peft4j.tensor.Functional;
import org.peft4j.tensor.Precision;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A Llama-family decoder with its language-model head. Children {@code model} and, unless the
 * embeddings are tied, {@code lm_head}; with tied embeddings the logits are x Eᵀ with E the token
 * embedding, so there is one matrix and no {@code lm_head} parameter (as in the checkpoint).
 */
public final class LlamaForCausalLM extends Module implements CausalLm {

    private final LlamaConfig config;

    /** A model with placeholder weights (zeros, norms at one); see {@link #fromPretrained}. */
    public LlamaForCausalLM(NDManager manager, LlamaConfig config) {
        this.config = config;
        addChild("model", new LlamaModel(manager, config));
        if (!config.tieWordEmbeddings()) {
            addChild("lm_head", new Linear(manager, config.hiddenSize(), config.vocabSize(), false));
        }
    }

    public LlamaConfig config() {
        return config;
    }

    public LlamaModel model() {
        return (LlamaModel) child("model");
    }

    /**
     * Loads {@code config.json} and the weights (one {@code model.safetensors} or the shards of
     * {@code model.safetensors.index.json}; f32, f16 or bf16 on disk, f32 in memory) from a Hugging
     * Face directory. A tied model's checkpoint may carry a copy of the embedding as lm_head; it is
     * not used.
     */
    public static LlamaForCausalLM fromPretrained(Path dir) throws IOException {
        LlamaConfig config = LlamaConfig.read(WeightLoader.requireFile(dir, "config.json", "the model configuration"));
        CheckpointFiles weights = CheckpointFiles.open(dir);
        NDManager manager = Backend.get().manager();
        LlamaForCausalLM lm = new LlamaForCausalLM(manager, config);
        WeightLoader.load(lm, weights, name -> checkpointToPath(name, config), path -> false, manager);
        return lm;
    }

    /** A checkpoint name's parameter path, or null for tensors not used (old rotary buffers, a tied head). */
    static String checkpointToPath(String name, LlamaConfig config) {
        if (name.endsWith(".rotary_emb.inv_freq") || (config.tieWordEmbeddings() && name.equals("lm_head.weight"))) {
            return null;
        }
        return name;
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache) {
        NDArray hidden = model().forward(inputIds, attentionMask, positionIds, cache);   // (B, T, H)
        if (config.tieWordEmbeddings()) {
            // x Eᵀ with E [V, H] read in place, the same fused call a Linear makes
            NDArray e = model().embedTokens().weight().value();
            return Functional.linear(Precision.like(hidden, e), e, null);   // (B, T, V)
        }
        return linear("lm_head").forward(hidden);   // (B, T, V)
    }

    /** Logits without a cache, positions from the mask. */
    public NDArray forward(NDArray inputIds, NDArray attentionMask) {
        return forward(inputIds, attentionMask, null, null);
    }

    @Override
    public KvCache newCache() {
        return new KvCache(config.numHiddenLayers());
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    @Override
    public int maxPositions() {
        return config.maxPositionEmbeddings();
    }
}
