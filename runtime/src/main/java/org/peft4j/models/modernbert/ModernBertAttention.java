package org.peft4j.models.modernbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.Attention;
import org.peft4j.models.core.AttentionOptions;
import org.peft4j.models.core.RotaryEmbedding;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

/**
 * ModernBERT's bidirectional self-attention: one fused projection {@code Wqkv} gives q, k and v
 * (in that order along its output), queries and keys are rotated, then the shared attention
 * ({@link Attention#attend}) and the output projection {@code Wo}. Global and local layers differ
 * only in the mask and the rotary angles they are given.
 */
public final class ModernBertAttention extends Module {

    private final AttentionOptions options;

    public ModernBertAttention(NDManager manager, ModernBertConfig config) {
        int h = config.hiddenSize();
        this.options = AttentionOptions.multiHead(config.numAttentionHeads(), config.headDim(),
                (float) config.attentionDropout());
        addChild("Wqkv", new Linear(manager, h, 3L * h, config.attentionBias()));
        addChild("Wo", new Linear(manager, h, h, config.attentionBias()));
        addChild("out_drop", new Dropout((float) config.attentionDropout()));
    }

    /**
     * @param x    (B, T, H)
     * @param mask additive, (B or 1, 1, T, T) or (B, 1, 1, T); or null
     * @param cos  (1, 1, T, hs) rotary cosines of this layer's type
     * @param sin  likewise the sines
     * @return (B, T, H)
     */
    public NDArray forward(NDArray x, NDArray mask, NDArray cos, NDArray sin) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        long h = x.getShape().get(2);
        NDList qkv = linear("Wqkv").forward(x).split(3, 2);                             // 3 × (B, T, H)
        NDArray q = RotaryEmbedding.apply(heads(qkv.get(0), b, t), cos, sin);            // (B, nh, T, hs)
        NDArray k = RotaryEmbedding.apply(heads(qkv.get(1), b, t), cos, sin);            // (B, nh, T, hs)
        NDArray v = heads(qkv.get(2), b, t);                                            // (B, nh, T, hs)
        float p = isTraining() ? options.dropout() : 0f;
        NDArray y = Attention.attend(q, k, v, mask, null, 0, options, p)                // (B, nh, T, hs)
                .transpose(0, 2, 1, 3).reshape(b, t, h);                                // (B, T, H)
        return ((Dropout) child("out_drop")).forward(linear("Wo").forward(y));
    }

    /** (B, T, H) -> (B, nh, T, hs). */
    private NDArray heads(NDArray x, long b, long t) {
        return x.reshape(b, t, options.numHeads(), options.headDim()).transpose(0, 2, 1, 3);
    }
}
