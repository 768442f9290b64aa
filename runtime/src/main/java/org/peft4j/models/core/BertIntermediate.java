package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

/**
 * The feed-forward expansion H -> I and its activation: BERT's exact GELU, x Φ(x) (Hendrycks and
 * Gimpel 2016), or the {@code hidden_act} of another family in this layout (DeBERTa).
 */
public final class BertIntermediate extends Module {

    private final Activation activation;

    public BertIntermediate(NDManager manager, BertConfig config) {
        // libtorch's gelu with its default approximate='none' is the erf form BERT was trained with
        this(manager, config.hiddenSize(), config.intermediateSize(), Activation.GELU);
    }

    public BertIntermediate(NDManager manager, int hidden, int intermediate, Activation activation) {
        this.activation = activation;
        addChild("dense", new Linear(manager, hidden, intermediate, true));
    }

    /** (B, T, H) -> (B, T, I). */
    public NDArray forward(NDArray x) {
        return activation.apply(linear("dense").forward(x));
    }
}
