package org.peft4j.models.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Module;

/** Self-attention followed by its output projection, residual and LayerNorm. */
public final class BertAttention extends Module {

    public BertAttention(NDManager manager, BertConfig config) {
        addChild("self", new BertSelfAttention(manager, config));
        addChild("output", new BertOutput(manager, config, config.hiddenSize()));
    }

    /** (B, T, H) -> (B, T, H); {@code keysMask} as in {@link BertSelfAttention#forward}. */
    public NDArray forward(NDArray x, NDArray keysMask) {
        NDArray attended = ((BertSelfAttention) child("self")).forward(x, keysMask);
        return ((BertOutput) child("output")).forward(attended, x);
    }
}
