package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

/**
 * The gated feed-forward layer (Shazeer 2020, eq. 6): down_proj(act(gate_proj(x)) ⊙ up_proj(x)); with
 * SiLU it is Llama's SwiGLU, with GELU's tanh approximation Gemma's GeGLU.
 */
public final class GatedMlp extends Module {

    private final Activation activation;

    public GatedMlp(NDManager manager, int hidden, int intermediate, Activation activation, boolean bias) {
        this.activation = activation;
        addChild("gate_proj", new Linear(manager, hidden, intermediate, bias));
        addChild("up_proj", new Linear(manager, hidden, intermediate, bias));
        addChild("down_proj", new Linear(manager, intermediate, hidden, bias));
    }

    /** (B, T, H) -> (B, T, H). */
    public NDArray forward(NDArray x) {
        NDArray gate = activation.apply(linear("gate_proj").forward(x));              // (B, T, I)
        return linear("down_proj").forward(gate.mul(linear("up_proj").forward(x)));    // (B, T, H)
    }
}
