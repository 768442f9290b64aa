package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Module;
import org.peft4j.nn.RMSNorm;

/**
 * A pre-norm decoder block in Llama's layout: x + self_attn(norm(x)), then x + mlp(norm(x)). With
 * sandwich norms (Gemma 2 and 3) each branch's output is normalised too before it is added:
 * x + post_attention_layernorm(self_attn(input_layernorm(x))), then
 * x + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(x))).
 */
public final class DecoderLayer extends Module {

    private final int index;
    private final boolean sliding;
    private final boolean sandwich;

    public DecoderLayer(NDManager manager, DecoderConfig config, int index) {
        this.index = index;
        this.sliding = config.layerTypes().get(index) == LayerType.SLIDING_ATTENTION;
        DecoderOptions options = config.options();
        this.sandwich = options.sandwichNorms();
        float eps = (float) config.rmsNormEps();
        addChild("self_attn", new Attention(manager, config.hiddenSize(), config.attention(index), Attention.Names.PROJ,
                config.qkvBias(), config.outputBias(), options.qkNorm() ? eps : null, options.unitOffsetNorms()));
        addChild("mlp", new GatedMlp(manager, config.hiddenSize(), config.intermediateSize(), config.activation(),
                config.mlpBias()));
        addChild("input_layernorm", norm(manager, config));
        addChild("post_attention_layernorm", norm(manager, config));
        if (sandwich) {
            addChild("pre_feedforward_layernorm", norm(manager, config));
            addChild("post_feedforward_layernorm", norm(manager, config));
        }
    }

    /** An RMSNorm over H in the config's kind. */
    static RMSNorm norm(NDManager manager, DecoderConfig config) {
        float eps = (float) config.rmsNormEps();
        return config.options().unitOffsetNorms() ? RMSNorm.unitOffset(manager, config.hiddenSize(), eps)
                : new RMSNorm(manager, config.hiddenSize(), eps);
    }

    /** (B, T, H) -> (B, T, H). */
    public NDArray forward(NDArray x, AttentionContext ctx) {
        NDArray a = ((Attention) child("self_attn")).forward(norm("input_layernorm").forward(x), ctx, index, sliding);
        if (sandwich) {
            x = x.add(norm("post_attention_layernorm").forward(a));
            NDArray m = ((GatedMlp) child("mlp")).forward(norm("pre_feedforward_layernorm").forward(x));
            return x.add(norm("post_feedforward_layernorm").forward(m));
        }
        x = x.add(a);
        NDArray m = ((GatedMlp) child("mlp")).forward(norm("post_attention_layernorm").forward(x));
        return x.add(m);
    }

    private RMSNorm norm(String name) {
        return (RMSNorm) child(name);
    }
}
