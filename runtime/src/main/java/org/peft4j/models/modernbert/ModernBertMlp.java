package org.peft4j.models.modernbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.Activation;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

/**
 * ModernBERT's gated MLP, GeGLU with GELU (Shazeer 2020, eq. 6) in one fused input projection:
 * {@code Wi} gives [input, gate] side by side, and the layer returns Wo(drop(act(input) ⊙ gate)).
 */
public final class ModernBertMlp extends Module {

    private final Activation activation;

    public ModernBertMlp(NDManager manager, ModernBertConfig config) {
        this.activation = config.hiddenActivation();
        addChild("Wi", new Linear(manager, config.hiddenSize(), 2L * config.intermediateSize(), config.mlpBias()));
        addChild("drop", new Dropout((float) config.mlpDropout()));
        addChild("Wo", new Linear(manager, config.intermediateSize(), config.hiddenSize(), config.mlpBias()));
    }

    /** (B, T, H) -> (B, T, H). */
    public NDArray forward(NDArray x) {
        NDList halves = linear("Wi").forward(x).split(2, 2);                               // 2 × (B, T, I)
        NDArray gated = activation.apply(halves.get(0)).mul(halves.get(1));                // (B, T, I)
        return linear("Wo").forward(((Dropout) child("drop")).forward(gated));            // (B, T, H)
    }
}
