package org.peft4j.models.gpt2;

import org.peft4j.tensor.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Conv1D;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Module;

/** c_proj(gelu_new(c_fc(x))), both {@link Conv1D}. */
public final class GPT2Mlp extends Module {

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    public GPT2Mlp(NDManager manager, GPT2Config config) {
        addChild("c_fc", new Conv1D(manager, config.nEmbd(), config.nInner()));
        addChild("c_proj", new Conv1D(manager, config.nInner(), config.nEmbd()));
        addChild("dropout", new Dropout((float) config.residPdrop()));
    }

    /** (B, T, H) -> (B, T, H). */
    public NDArray forward(NDArray x) {
        NDArray y = geluNew(linear("c_fc").forward(x));
        return ((Dropout) child("dropout")).forward(linear("c_proj").forward(y));
    }

    /**
     * GELU, tanh approximation (Hendrycks &amp; Gimpel 2016, §2), which GPT-2 was trained with:
     * 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).
     */
    public static NDArray geluNew(NDArray x) {
        NDArray inner = Scalars.mul(x.add(Scalars.mul(Scalars.pow(x, 3), 0.044715)), SQRT_2_OVER_PI);
        return Scalars.mul(x.mul(inner.tanh().add(1)), 0.5);
    }
}
