package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Module;

/**
 * BERT's attention block: self-attention ({@code self.query, key, value}, no output projection of its
 * own), then {@code output}: its projection, residual and LayerNorm.
 */
public final class BertAttention extends Module {

    public BertAttention(NDManager manager, BertConfig config) {
        AttentionOptions options = AttentionOptions.multiHead(config.numAttentionHeads(),
                config.hiddenSize() / config.numAttentionHeads(), (float) config.attentionProbsDropoutProb());
        addChild("self", new Attention(manager, config.hiddenSize(), options, Attention.Names.BERT, true, false, null));
        addChild("output", new BertOutput(manager, config, config.hiddenSize()));
    }

    /** (B, T, H) -> (B, T, H); {@code keysMask} (B, 1, 1, T) additive ({@link Masks#padding}), or null. */
    public NDArray forward(NDArray x, NDArray keysMask) {
        NDArray attended = ((Attention) child("self")).forward(x, AttentionContext.masked(keysMask), 0, false);
        return ((BertOutput) child("output")).forward(attended, x);
    }
}
