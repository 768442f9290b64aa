package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.LayerNorm;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

/**
 * A sub-layer's exit in post-LayerNorm BERT: LayerNorm(dropout(dense(x)) + residual). The same
 * shape serves as {@code attention.output} (H -> H) and as the feed-forward {@code output} (I -> H);
 * HF has two identical classes for it.
 */
public final class BertOutput extends Module {

    public BertOutput(NDManager manager, BertConfig config, int in) {
        this(manager, in, config.hiddenSize(), config.layerNormEps(), config.hiddenDropoutProb());
    }

    /** The same exit for an encoder of another family (DeBERTa): {@code in} -> {@code hidden}. */
    public BertOutput(NDManager manager, int in, int hidden, double layerNormEps, double dropout) {
        addChild("dense", new Linear(manager, in, hidden, true));
        addChild("LayerNorm", new LayerNorm(manager, hidden, (float) layerNormEps));
        addChild("dropout", new Dropout((float) dropout));
    }

    /**
     * @param x        (B, T, in) the sub-layer's result
     * @param residual (B, T, H) the sub-layer's input
     * @return (B, T, H)
     */
    public NDArray forward(NDArray x, NDArray residual) {
        return exit(linear("dense").forward(x), residual);
    }

    /**
     * The feed-forward network's whole path: {@code intermediate}'s expansion and activation, this
     * projection, dropout, residual and LayerNorm; (B, T, H) -> (B, T, H). The same as
     * {@code forward(intermediate.forward(x), x)}, with the two products fused where
     * {@link BertIntermediate#forwardThrough} can.
     */
    public NDArray forwardFeedForward(BertIntermediate intermediate, NDArray x) {
        return exit(intermediate.forwardThrough(x, linear("dense")), x);
    }

    private NDArray exit(NDArray projected, NDArray residual) {
        NDArray y = ((Dropout) child("dropout")).forward(projected);
        return ((LayerNorm) child("LayerNorm")).forward(y.add(residual));
    }
}
