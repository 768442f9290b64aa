package org.peft4j.models.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.Attention;
import org.peft4j.models.core.AttentionContext;
import org.peft4j.models.core.AttentionOptions;
import org.peft4j.nn.Conv1D;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Module;

/**
 * GPT-2's causal self-attention: one {@code c_attn} projection gives q, k and v side by side, then
 * the shared attention ({@link Attention#attend}) and {@code c_proj}. Both are {@link Conv1D} ([in, out]).
 */
public final class GPT2Attention extends Module {

    private final AttentionOptions options;

    public GPT2Attention(NDManager manager, GPT2Config config) {
        this.options = AttentionOptions.multiHead(config.nHead(), config.headSize(), (float) config.attnPdrop());
        int h = config.nEmbd();
        addChild("c_attn", new Conv1D(manager, h, 3L * h));
        addChild("c_proj", new Conv1D(manager, h, h));
        addChild("attn_dropout", new Dropout((float) config.attnPdrop()));
        addChild("resid_dropout", new Dropout((float) config.residPdrop()));
    }

    /**
     * @param x     (B, T, H)
     * @param ctx   the causal mask and the cache
     * @param layer this block's index in the cache
     * @return (B, T, H)
     */
    public NDArray forward(NDArray x, AttentionContext ctx, int layer) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        long h = x.getShape().get(2);
        NDList qkv = linear("c_attn").forward(x).split(3, 2);           // 3 × (B, T, H)
        Dropout attnDropout = (Dropout) child("attn_dropout");
        NDArray y = Attention.attend(heads(qkv.get(0), b, t), heads(qkv.get(1), b, t), heads(qkv.get(2), b, t),
                        ctx.mask(), ctx.cache(), layer, options, attnDropout.isTraining() ? attnDropout.p() : 0f)
                .transpose(0, 2, 1, 3).reshape(b, t, h);                  // (B, nh, T, hs) -> (B, T, H)
        return ((Dropout) child("resid_dropout")).forward(linear("c_proj").forward(y));
    }

    /** (B, T, H) -> (B, nh, T, hs). */
    private NDArray heads(NDArray x, long b, long t) {
        return x.reshape(b, t, options.numHeads(), options.headDim()).transpose(0, 2, 1, 3);
    }
}
