package org.peft4j.models.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.CausalLm;
import org.peft4j.models.core.KvCache;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Functional;
import org.peft4j.tensor.Precision;

import java.io.IOException;
import java.nio.file.Path;

/**
 * GPT-2 with its language-model head, tied to the token embedding: logits = x wteᵀ, so the model
 * has one [V, H] matrix and no {@code lm_head} parameter. Child {@code transformer}.
 */
public final class GPT2LMHeadModel extends Module implements CausalLm {

    private final GPT2Config config;

    public GPT2LMHeadModel(NDManager manager, GPT2Config config) {
        this.config = config;
        addChild("transformer", new GPT2Model(manager, config));
    }

    public GPT2Config config() {
        return config;
    }

    public GPT2Model transformer() {
        return (GPT2Model) child("transformer");
    }

    /**
     * Loads a Hugging Face GPT-2 directory: names with or without the {@code transformer.} prefix,
     * single or sharded safetensors.
     */
    public static GPT2LMHeadModel fromPretrained(Path dir) throws IOException {
        return (GPT2LMHeadModel) GPT2Family.INSTANCE.load(dir, Task.CAUSAL_LM);
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache) {
        NDArray hidden = transformer().forward(inputIds, attentionMask, positionIds, cache);      // (B, T, H)
        NDArray e = transformer().wte().weight().value();
        return Functional.linear(Precision.like(hidden, e), e, null);   // (B, T, V)
    }

    /** Logits without a cache, positions from the mask. */
    public NDArray forward(NDArray inputIds, NDArray attentionMask) {
        return forward(inputIds, attentionMask, null, null);
    }

    @Override
    public KvCache newCache() {
        return new KvCache(config.nLayer());
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    @Override
    public int maxPositions() {
        return config.nPositions();
    }
}
