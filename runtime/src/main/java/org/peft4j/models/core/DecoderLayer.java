package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Module;
import org.peft4j.nn.RMSNorm;

/** A pre-norm decoder block in Llama's layout: x + self_attn(norm(x)), then x + mlp(norm(x)). */
public final class DecoderLayer extends Module {

    private final int index;
    private final boolean sliding;

    public DecoderLayer(NDManager manager, DecoderConfig config, int index) {
        this.index = index;
        this.sliding = config.layerTypes().get(index) == LayerType.SLIDING_ATTENTION;
        float eps = (float) config.rmsNormEps();
        addChild("self_attn", new Attention(manager, config.hiddenSize(), config.attention(), Attention.Names.PROJ,
                config.qkvBias(), config.outputBias(), null));
        addChild("mlp", new GatedMlp(manager, config.hiddenSize(), config.intermediateSize(), config.activation(),
                config.mlpBias()));
        addChild("input_layernorm", new RMSNorm(manager, config.hiddenSize(), eps));
        addChild("post_attention_layernorm", new RMSNorm(manager, config.hiddenSize(), eps));
    }

    /** (B, T, H) -> (B, T, H). */
    public NDArray forward(NDArray x, AttentionContext ctx) {
        NDArray a = ((Attention) child("self_attn")).forward(norm("input_layernorm").forward(x), ctx, index, sliding);
        x = x.add(a);
        NDArray m = ((GatedMlp) child("mlp")).forward(norm("post_attention_layernorm").forward(x));
        return x.add(m);
    }

    private RMSNorm norm(String name) {
        return (RMSNorm) child(name);
    }
}
