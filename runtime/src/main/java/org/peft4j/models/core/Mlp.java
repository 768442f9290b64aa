package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Module;

/**
 * The plain feed-forward layer, dropout(out(act(in(x)))), with the family's layers under its own
 * names (GPT-2: {@code c_fc} and {@code c_proj}, both Conv1D).
 */
public final class Mlp extends Module {

    private final String in;
    private final String out;
    private final Activation activation;

    /** {@code inLayer} and {@code outLayer} must be linear layers (plain or Conv1D). */
    public Mlp(String in, Module inLayer, String out, Module outLayer, Activation activation, float dropout) {
        this.in = in;
        this.out = out;
        this.activation = activation;
        addChild(in, inLayer);
        addChild(out, outLayer);
        addChild("dropout", new Dropout(dropout));
    }

    /** (B, T, H) -> (B, T, H). */
    public NDArray forward(NDArray x) {
        NDArray y = activation.apply(linear(in).forward(x));
        return ((Dropout) child("dropout")).forward(linear(out).forward(y));
    }
}
