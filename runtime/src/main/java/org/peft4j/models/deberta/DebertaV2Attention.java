package org.peft4j.models.deberta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.BertOutput;
import org.peft4j.nn.Module;

/** DeBERTa's attention block: {@code self} ({@link DisentangledSelfAttention}), then {@code output} (dense, dropout, residual, LayerNorm). */
public final class DebertaV2Attention extends Module {

    public DebertaV2Attention(NDManager manager, DebertaV2Config config) {
        addChild("self", new DisentangledSelfAttention(manager, config));
        addChild("output", new BertOutput(manager, config.allHeadSize(), config.hiddenSize(), config.layerNormEps(),
                config.hiddenDropoutProb()));
    }

    /** (B, T, H) -> (B, T, H); the other arguments as {@link DisentangledSelfAttention#forward}. */
    public NDArray forward(NDArray x, NDArray mask, NDArray relEmbeddings, NDArray relativeIndex) {
        NDArray attended = ((DisentangledSelfAttention) child("self")).forward(x, mask, relEmbeddings, relativeIndex);
        return ((BertOutput) child("output")).forward(attended, x);
    }
}
