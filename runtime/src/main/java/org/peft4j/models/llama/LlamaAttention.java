package org.peft4j.models.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.KvCache;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Functional;

/**
 * Grouped-query self-attention (Ainslie et al. 2023) with rotary positions:
 * softmax(Q Kᵀ / √hs + mask) V, where nh query heads share nkv key/value heads in groups of
 * nh / nkv (nkv = nh is plain multi-head attention). Children {@code q_proj, k_proj, v_proj,
 * o_proj} are looked up by name at each call, so LoRA can wrap any of them.
 */
public final class LlamaAttention extends Module {

    private final int numHeads;
    private final int numKvHeads;
    private final int headDim;

    public LlamaAttention(NDManager manager, LlamaConfig config) {
        this.numHeads = config.numAttentionHeads();
        this.numKvHeads = config.numKeyValueHeads();
        this.headDim = config.headDim();
        int h = config.hiddenSize();
        addChild("q_proj", new Linear(manager, h, (long) numHeads * headDim, config.qkvBias()));
        addChild("k_proj", new Linear(manager, h, (long) numKvHeads * headDim, config.qkvBias()));
        addChild("v_proj", new Linear(manager, h, (long) numKvHeads * headDim, config.qkvBias()));
        addChild("o_proj", new Linear(manager, (long) numHeads * headDim, h, config.outputBias()));
    }

    /**
     * @param x      (B, T, H)
     * @param cos    (B, 1, T, hs) rotary cosines of the new positions; sin likewise
     * @param mask   (B or 1, 1, T, S) additive causal + padding mask, S = cached + T
     * @param cache  past keys/values, extended with this step's; or null
     * @param layer  this layer's index in the cache
     * @return (B, T, H)
     */
    public NDArray forward(NDArray x, NDArray cos, NDArray sin, NDArray mask, KvCache cache, int layer) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDArray q = heads(linear("q_proj").forward(x), b, t, numHeads);       // (B, nh, T, hs)
        NDArray k = heads(linear("k_proj").forward(x), b, t, numKvHeads);     // (B, nkv, T, hs)
        NDArray v = heads(linear("v_proj").forward(x), b, t, numKvHeads);     // (B, nkv, T, hs)
        q = RotaryEmbedding.apply(q, cos, sin);
        k = RotaryEmbedding.apply(k, cos, sin);
        if (cache != null) {
            NDList all = cache.append(layer, k, v);
            k = all.get(0);                                                     // (B, nkv, S, hs)
            v = all.get(1);
        }
        k = repeatKv(k);                                                        // (B, nh, S, hs)
        v = repeatKv(v);

        // the float32 mask makes half-precision scores float32, so the softmax runs in float32 (as HF's)
        NDArray y = Functional.scaledDotProductAttention(q, k, v, mask, 1.0 / Math.sqrt(headDim), 0f)  // (B, nh, T, hs)
                .transpose(0, 2, 1, 3)                                                      // (B, T, nh, hs)
                .reshape(b, t, (long) numHeads * headDim);                                  // (B, T, nh·hs)
        return linear("o_proj").forward(y);                                                 // (B, T, H)
    }

    /** (B, T, n·hs) -> (B, n, T, hs). */
    private NDArray heads(NDArray x, long b, long t, int n) {
        return x.reshape(b, t, n, headDim).transpose(0, 2, 1, 3);
    }

    /**
     * (B, nkv, S, hs) -> (B, nh, S, hs): query head h reads key/value head h / groups, as HF's
     * repeat_kv (an expand, then a reshape that copies once).
     */
    private NDArray repeatKv(NDArray kv) {
        int groups = numHeads / numKvHeads;
        if (groups == 1) {
            return kv;
        }
        long b = kv.getShape().get(0);
        long s = kv.getShape().get(2);
        return kv.expandDims(2).broadcast(b, numKvHeads, groups, s, headDim).reshape(b, numHeads, s, headDim);
    }
}
