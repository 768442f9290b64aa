package org.peft4j.models.deberta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.BertIntermediate;
import org.peft4j.models.core.BertOutput;
import org.peft4j.nn.Module;
import org.peft4j.tensor.LayerScope;

/** One post-LayerNorm DeBERTa layer, in BERT's layout: {@code attention}, {@code intermediate}, {@code output}. */
public final class DebertaV2Layer extends Module {

    public DebertaV2Layer(NDManager manager, DebertaV2Config config) {
        addChild("attention", new DebertaV2Attention(manager, config));
        addChild("intermediate", new BertIntermediate(manager, config.hiddenSize(), config.intermediateSize(),
                config.hiddenAct()));
        addChild("output", new BertOutput(manager, config.intermediateSize(), config.hiddenSize(),
                config.layerNormEps(), config.hiddenDropoutProb()));
    }

    /** (B, T, H) -> (B, T, H); the other arguments as {@link DisentangledSelfAttention#forward}. */
    public NDArray forward(NDArray x, NDArray mask, NDArray relEmbeddings, NDArray relativeIndex) {
        // the layer's temporaries are released when it returns, not at the end of the step
        return LayerScope.run(() -> {
            NDArray a = ((DebertaV2Attention) child("attention")).forward(x, mask, relEmbeddings, relativeIndex);
            BertIntermediate feedForward = (BertIntermediate) child("intermediate");
            return ((BertOutput) child("output")).forwardFeedForward(feedForward, a);   // (B, T, H)
        });
    }
}
