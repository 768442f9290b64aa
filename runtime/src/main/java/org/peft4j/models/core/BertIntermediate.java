package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Linear;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.tensor.Functional;

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

    /**
     * (B, T, H) -> (B, T, H'): this expansion and activation, then {@code down}, the output's projection.
     * With bfloat16 products, the exact GELU and neither linear wrapped by an adapter, the three run as one
     * {@link Functional#geluFeedForward}, which keeps the (B, T, I) activation in bfloat16 between the
     * products; otherwise one after another, as {@link #forward} then {@code down}.
     */
    NDArray forwardThrough(NDArray x, LinearLayer down) {
        if (activation == Activation.GELU && child("dense") instanceof Linear up && down instanceof Linear d
                && Functional.fusesFeedForward(x, up.weight().value(), d.weight().value())) {
            return Functional.geluFeedForward(x, up.weight().value(), value(up.bias()), d.weight().value(),
                    value(d.bias()));
        }
        return down.forward(forward(x));
    }

    private static NDArray value(Parameter p) {
        return p == null ? null : p.value();
    }
}
