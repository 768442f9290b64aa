package org.peft4j.models.modernbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.Activation;
import org.peft4j.nn.LayerNorm;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

/** ModernBERT's {@code head}: norm(act(dense(x))), shared by its masked-LM and classification models. */
public final class ModernBertPredictionHead extends Module {

    private final Activation activation;

    public ModernBertPredictionHead(NDManager manager, ModernBertConfig config) {
        this.activation = config.classifierActivation();
        addChild("dense", new Linear(manager, config.hiddenSize(), config.hiddenSize(), config.classifierBias()));
        addChild("norm", new LayerNorm(manager, config.hiddenSize(), (float) config.normEps(), config.normBias()));
    }

    public Linear dense() {
        return (Linear) child("dense");
    }

    /** (B, H) -> (B, H). */
    public NDArray forward(NDArray x) {
        return ((LayerNorm) child("norm")).forward(activation.apply(linear("dense").forward(x)));
    }
}
