package org.peft4j.models.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.KvCache;
import org.peft4j.nn.Module;
import org.peft4j.nn.RMSNorm;

/** A pre-norm decoder block: x + attn(norm(x)), then x + mlp(norm(x)). */
public final class LlamaDecoderLayer extends Module {

    private final int index;

    public LlamaDecoderLayer(NDManager manager, LlamaConfig config, int index) {
        this.index = index;
        float eps = (float) config.rmsNormEps();
        addChild("self_attn", new LlamaAttention(manager, config));
        addChild("mlp", new LlamaMlp(manager, config));
        addChild("input_layernorm", new RMSNorm(manager, config.hiddenSize(), eps));
        addChild("post_attention_layernorm", new RMSNorm(manager, config.hiddenSize(), eps));
    }

    /** (B, T, H) -> (B, T, H); the other arguments as in {@link LlamaAttention#forward}. */
    public NDArray forward(NDArray x, NDArray cos, NDArray sin, NDArray mask, KvCache cache) {
        NDArray a = ((LlamaAttention) child("self_attn"))
                .forward(norm("input_layernorm").forward(x), cos, sin, mask, cache, index);
        x = x.add(a);
        NDArray m = ((LlamaMlp) child("mlp")).forward(norm("post_attention_layernorm").forward(x));
        return x.add(m);
    }

    private RMSNorm norm(String name) {
        return (RMSNorm) child(name);
    }
}
