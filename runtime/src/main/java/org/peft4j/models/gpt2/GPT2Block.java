package org.peft4j.models.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.KvCache;
import org.peft4j.nn.LayerNorm;
import org.peft4j.nn.Module;

/** A pre-LayerNorm block: x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
public final class GPT2Block extends Module {

    private final int index;

    public GPT2Block(NDManager manager, GPT2Config config, int index) {
        this.index = index;
        float eps = (float) config.layerNormEps();
        addChild("ln_1", new LayerNorm(manager, config.nEmbd(), eps));
        addChild("attn", new GPT2Attention(manager, config));
        addChild("ln_2", new LayerNorm(manager, config.nEmbd(), eps));
        addChild("mlp", new GPT2Mlp(manager, config));
    }

    /** (B, T, H) -> (B, T, H). */
    public NDArray forward(NDArray x, NDArray mask, KvCache cache) {
        x = x.add(((GPT2Attention) child("attn")).forward(((LayerNorm) child("ln_1")).forward(x), mask, cache, index));
        return x.add(((GPT2Mlp) child("mlp")).forward(((LayerNorm) child("ln_2")).forward(x)));
    }
}
