package org.peft4j.models.gpt2;

import org.peft4j.tensor.Functional;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Conv1D;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Module;

/** c_proj(gelu_new(c_fc(x))), both {@link Conv1D}. */
public final class GPT2Mlp extends Module {

    public GPT2Mlp(NDManager manager, GPT2Config config) {
        addChild("c_fc", new Conv1D(manager, config.nEmbd(), config.nInner()));
        addChild("c_proj", new Conv1D(manager, config.nInner(), config.nEmbd()));
        addChild("dropout", new Dropout((float) config.residPdrop()));
    }

    /** (B, T, H) -> (B, T, H). */
    public NDArray forward(NDArray x) {
        NDArray y = Functional.geluTanh(linear("c_fc").forward(x));
        return ((Dropout) child("dropout")).forward(linear("c_proj").forward(y));
    }
}
