package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Module;
import org.peft4j.tensor.LayerScope;

/** One encoder block: attention, then the feed-forward network, each with residual and post-LayerNorm. */
public final class BertLayer extends Module {

    public BertLayer(NDManager manager, BertConfig config) {
        addChild("attention", new BertAttention(manager, config));
        addChild("intermediate", new BertIntermediate(manager, config));
        addChild("output", new BertOutput(manager, config, config.intermediateSize()));
    }

    /** (B, T, H) -> (B, T, H); {@code keysMask} as in {@link BertAttention#forward}. */
    public NDArray forward(NDArray x, NDArray keysMask) {
        // the layer's temporaries are released when it returns, not at the end of the step
        return LayerScope.run(() -> {
            NDArray a = ((BertAttention) child("attention")).forward(x, keysMask);   // (B, T, H)
            BertIntermediate feedForward = (BertIntermediate) child("intermediate");
            return ((BertOutput) child("output")).forwardFeedForward(feedForward, a);   // (B, T, H)
        });
    }
}
