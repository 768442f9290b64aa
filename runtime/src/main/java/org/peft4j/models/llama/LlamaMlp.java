package org.peft4j.models.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.tensor.Functional;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

/**
 * The SwiGLU feed-forward layer (Shazeer 2020, eq. 6 with Swish₁ = SiLU):
 * down_proj(silu(gate_proj(x)) ⊙ up_proj(x)).
 */
public final class LlamaMlp extends Module {

    public LlamaMlp(NDManager manager, LlamaConfig config) {
        int h = config.hiddenSize();
        int i = config.intermediateSize();
        addChild("gate_proj", new Linear(manager, h, i, false));
        addChild("up_proj", new Linear(manager, h, i, false));
        addChild("down_proj", new Linear(manager, i, h, false));
    }

    /** (B, T, H) -> (B, T, H). */
    public NDArray forward(NDArray x) {
        NDArray gate = linear("gate_proj").forward(x);                  // (B, T, I)
        NDArray silu = Functional.silu(gate);                          // (B, T, I)
        return linear("down_proj").forward(silu.mul(linear("up_proj").forward(x)));
    }
}
