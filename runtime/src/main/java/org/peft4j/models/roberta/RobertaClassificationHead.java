package org.peft4j.models.roberta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

/**
 * Transformers' {@code RobertaClassificationHead}: h[&lt;s&gt;] → dropout → dense → tanh → dropout →
 * out_proj. Children {@code dense}, {@code dropout}, {@code out_proj}.
 */
public final class RobertaClassificationHead extends Module {

    public RobertaClassificationHead(NDManager manager, int hiddenSize, double dropout, int numLabels) {
        addChild("dense", new Linear(manager, hiddenSize, hiddenSize, true));
        addChild("dropout", new Dropout((float) dropout));
        addChild("out_proj", new Linear(manager, hiddenSize, numLabels, true));
    }

    /** (B, T, H) -> (B, numLabels), from the first token's state. */
    public NDArray forward(NDArray hidden) {
        Dropout dropout = (Dropout) child("dropout");
        NDArray x = dropout.forward(hidden.get(new NDIndex(":, 0, :")));   // (B, H)
        x = dropout.forward(linear("dense").forward(x).tanh());            // (B, H)
        return linear("out_proj").forward(x);                              // (B, numLabels)
    }
}
