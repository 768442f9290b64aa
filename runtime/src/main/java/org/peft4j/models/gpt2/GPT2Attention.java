package org.peft4j.models.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.KvCache;
import org.peft4j.nn.Conv1D;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Functional;

/**
 * GPT-2's causal self-attention: one {@code c_attn} projection gives q, k and v side by side,
 * softmax(Q Kᵀ / √hs + mask) V per head, then {@code c_proj}. Both are {@link Conv1D} ([in, out]).
 */
public final class GPT2Attention extends Module {

    private final int numHeads;
    private final int headSize;

    public GPT2Attention(NDManager manager, GPT2Config config) {
        this.numHeads = config.nHead();
        this.headSize = config.headSize();
        int h = config.nEmbd();
        addChild("c_attn", new Conv1D(manager, h, 3L * h));
        addChild("c_proj", new Conv1D(manager, h, h));
        addChild("attn_dropout", new Dropout((float) config.attnPdrop()));
        addChild("resid_dropout", new Dropout((float) config.residPdrop()));
    }

    /**
     * @param x     (B, T, H)
     * @param mask  (B or 1, 1, T, S) additive causal + padding mask
     * @param cache or null
     * @param layer this block's index in the cache
     * @return (B, T, H)
     */
    public NDArray forward(NDArray x, NDArray mask, KvCache cache, int layer) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        long h = x.getShape().get(2);
        NDList qkv = linear("c_attn").forward(x).split(3, 2);           // 3 × (B, T, H)
        NDArray q = heads(qkv.get(0), b, t);                              // (B, nh, T, hs)
        NDArray k = heads(qkv.get(1), b, t);
        NDArray v = heads(qkv.get(2), b, t);
        if (cache != null) {
            NDList all = cache.append(layer, k, v);
            k = all.get(0);                                               // (B, nh, S, hs)
            v = all.get(1);
        }
        // the float32 mask makes half-precision scores float32, so the softmax runs in float32 (as HF's)
        Dropout attnDropout = (Dropout) child("attn_dropout");
        NDArray y = Functional.scaledDotProductAttention(q, k, v, mask, 1.0 / Math.sqrt(headSize),
                        attnDropout.isTraining() ? attnDropout.p() : 0f)                    // (B, nh, T, hs)
                .transpose(0, 2, 1, 3).reshape(b, t, h);                                    // (B, T, H)
        return ((Dropout) child("resid_dropout")).forward(linear("c_proj").forward(y));
    }

    /** (B, T, H) -> (B, nh, T, hs). */
    private NDArray heads(NDArray x, long b, long t) {
        return x.reshape(b, t, numHeads, headSize).transpose(0, 2, 1, 3);
    }
}
