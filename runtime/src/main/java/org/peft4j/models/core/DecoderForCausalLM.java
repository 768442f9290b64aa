package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Functional;
import org.peft4j.tensor.Precision;
import org.peft4j.tensor.Scalars;

/**
 * A Llama-layout decoder with its language-model head. Children {@code model} and, unless the
 * embeddings are tied, {@code lm_head}; with tied embeddings the logits are x Eᵀ with E the token
 * embedding, so there is one matrix and no {@code lm_head} parameter (as in the checkpoint).
 */
public final class DecoderForCausalLM extends Module implements CausalLm {

    private final DecoderConfig config;

    /** A model with placeholder weights (zeros, norms at one); load real ones through the registry. */
    public DecoderForCausalLM(NDManager manager, DecoderConfig config) {
        this.config = config;
        addChild("model", new DecoderModel(manager, config));
        if (!config.tieWordEmbeddings()) {
            addChild("lm_head", new Linear(manager, config.hiddenSize(), config.vocabSize(), false));
        }
    }

    public DecoderConfig config() {
        return config;
    }

    public DecoderModel model() {
        return (DecoderModel) child("model");
    }

    /** Checkpoint names: the module paths, less old rotary buffers and a stored copy of a tied head. */
    public static CheckpointNames checkpointNames(DecoderConfig config) {
        return CheckpointNames.dropping(name -> name.endsWith(".rotary_emb.inv_freq")
                || (config.tieWordEmbeddings() && name.equals("lm_head.weight")));
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache) {
        NDArray hidden = model().forward(inputIds, attentionMask, positionIds, cache);   // (B, T, H)
        NDArray logits;
        if (config.tieWordEmbeddings()) {
            // x Eᵀ with E [V, H] read in place, the same fused call a Linear makes
            NDArray e = model().embedTokens().weight().value();
            logits = Functional.linear(Precision.like(hidden, e), e, null);   // (B, T, V)
        } else {
            logits = linear("lm_head").forward(hidden);   // (B, T, V)
        }
        double cap = config.options().finalLogitSoftCap();
        // Gemma 2 and 3: c · tanh(l / c) bounds every logit to (−c, c)
        return cap > 0 ? Scalars.mul(Scalars.div(logits, cap).tanh(), cap) : logits;
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
        return config.maxPositions();
    }
}
