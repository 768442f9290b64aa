package org.peft4j.models.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Functional;

/**
 * Multi-head scaled dot-product self-attention: softmax(Q Kᵀ / √hs + mask) V, per head
 * (Vaswani et al. 2017, eq. 1). Query, key and value are separate linears, as in HF BERT, so each
 * can be targeted by an adapter on its own.
 */
public final class BertSelfAttention extends Module {

    private final int numHeads;
    private final int headSize;

    public BertSelfAttention(NDManager manager, BertConfig config) {
        this.numHeads = config.numAttentionHeads();
        this.headSize = config.headSize();
        int h = config.hiddenSize();
        addChild("query", new Linear(manager, h, h, true));
        addChild("key", new Linear(manager, h, h, true));
        addChild("value", new Linear(manager, h, h, true));
        addChild("dropout", new Dropout((float) config.attentionProbsDropoutProb()));
    }

    /**
     * @param x        (B, T, H)
     * @param keysMask (B, 1, 1, T) additive: 0 for real keys, a large negative number for padding; or null
     * @return (B, T, H), the heads concatenated again
     */
    public NDArray forward(NDArray x, NDArray keysMask) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        long h = x.getShape().get(2);
        NDArray q = heads(linear("query").forward(x), b, t);                                  // (B, nh, T, hs)
        NDArray k = heads(linear("key").forward(x), b, t);                                    // (B, nh, T, hs)
        NDArray v = heads(linear("value").forward(x), b, t);                                  // (B, nh, T, hs)
        Dropout dropout = (Dropout) child("dropout");
        return Functional.scaledDotProductAttention(q, k, v, keysMask, 1.0 / Math.sqrt(headSize),
                        dropout.isTraining() ? dropout.p() : 0f)                              // (B, nh, T, hs)
                .transpose(0, 2, 1, 3)                                                        // (B, T, nh, hs)
                .reshape(b, t, h);                                                            // (B, T, H)
    }

    /** (B, T, H) -> (B, nh, T, hs). */
    private NDArray heads(NDArray x, long b, long t) {
        return x.reshape(b, t, numHeads, headSize).transpose(0, 2, 1, 3);
    }
}
