package org.peft4j.models.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.Activation;
import org.peft4j.models.core.AttentionContext;
import org.peft4j.models.core.Mlp;
import org.peft4j.nn.Conv1D;
import org.peft4j.nn.LayerNorm;
import org.peft4j.nn.Module;

/** A pre-LayerNorm block: x + attn(ln_1(x)), then x + mlp(ln_2(x)), the MLP c_proj(gelu_new(c_fc(x))). */
public final class GPT2Block extends Module {

    private final int index;

    public GPT2Block(NDManager manager, GPT2Config config, int index) {
        this.index = index;
        float eps = (float) config.layerNormEps();
        addChild("ln_1", new LayerNorm(manager, config.nEmbd(), eps));
        addChild("attn", new GPT2Attention(manager, config));
        addChild("ln_2", new LayerNorm(manager, config.nEmbd(), eps));
        addChild("mlp", new Mlp("c_fc", new Conv1D(manager, config.nEmbd(), config.nInner()),
                "c_proj", new Conv1D(manager, config.nInner(), config.nEmbd()), Activation.GELU_TANH,
                (float) config.residPdrop()));
    }

    /** (B, T, H) -> (B, T, H). */
    public NDArray forward(NDArray x, AttentionContext ctx) {
        x = x.add(((GPT2Attention) child("attn")).forward(((LayerNorm) child("ln_1")).forward(x), ctx, index));
        return x.add(((Mlp) child("mlp")).forward(((LayerNorm) child("ln_2")).forward(x)));
    }
}
