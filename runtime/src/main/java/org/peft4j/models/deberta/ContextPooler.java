package org.peft4j.models.deberta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import org.peft4j.models.core.Activation;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

/** DeBERTa's {@code pooler}: the first token's state, dropout, {@code dense}, then {@code pooler_hidden_act}. */
public final class ContextPooler extends Module {

    private final Activation activation;

    public ContextPooler(NDManager manager, DebertaV2Config config) {
        this.activation = config.poolerHiddenAct();
        addChild("dense", new Linear(manager, config.hiddenSize(), config.hiddenSize(), true));
        addChild("dropout", new Dropout((float) config.poolerDropout()));
    }

    public Linear dense() {
        return (Linear) child("dense");
    }

    /** (B, T, H) -> (B, H). */
    public NDArray forward(NDArray hidden) {
        NDArray first = ((Dropout) child("dropout")).forward(hidden.get(new NDIndex(":, 0, :")));   // (B, H)
        return activation.apply(linear("dense").forward(first));
    }
}
