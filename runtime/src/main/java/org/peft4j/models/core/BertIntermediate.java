package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.tensor.Functional;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

/** The feed-forward expansion H -> I with exact GELU, x Φ(x) (Hendrycks and Gimpel 2016). */
public final class BertIntermediate extends Module {

    public BertIntermediate(NDManager manager, BertConfig config) {
        addChild("dense", new Linear(manager, config.hiddenSize(), config.intermediateSize(), true));
    }

    /** (B, T, H) -> (B, T, I). */
    public NDArray forward(NDArray x) {
        // libtorch's gelu with its default approximate='none' is the erf form BERT was trained with
        return Functional.gelu(linear("dense").forward(x));
    }
}
