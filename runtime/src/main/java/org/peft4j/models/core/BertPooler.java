package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

/**
 * BERT's pooler (Devlin et al. 2019, §3): tanh(dense(h[CLS])), the sentence vector its
 * next-sentence objective trained and {@code BertForSequenceClassification} classifies. Child
 * {@code dense}, under the Hugging Face path {@code pooler.dense}.
 */
public final class BertPooler extends Module {

    public BertPooler(NDManager manager, int hiddenSize) {
        addChild("dense", new Linear(manager, hiddenSize, hiddenSize, true));
    }

    /** The dense layer, for a new pooler's starting weights. */
    public Linear dense() {
        return (Linear) child("dense");
    }

    /** (B, T, H) -> (B, H), from the first token's state. */
    public NDArray forward(NDArray hidden) {
        NDArray first = hidden.get(new NDIndex(":, 0, :"));   // (B, H)
        return linear("dense").forward(first).tanh();          // (B, H)
    }
}
