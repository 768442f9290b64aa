package org.peft4j.models.modernbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Embedding;
import org.peft4j.nn.LayerNorm;
import org.peft4j.nn.Module;

/** Token embeddings, then LayerNorm and dropout; positions enter later, as rotations of queries and keys. */
public final class ModernBertEmbeddings extends Module {

    public ModernBertEmbeddings(NDManager manager, ModernBertConfig config) {
        addChild("tok_embeddings", new Embedding(manager, config.vocabSize(), config.hiddenSize()));
        addChild("norm", new LayerNorm(manager, config.hiddenSize(), (float) config.normEps(), config.normBias()));
        addChild("drop", new Dropout((float) config.embeddingDropout()));
    }

    public Embedding tokEmbeddings() {
        return (Embedding) child("tok_embeddings");
    }

    /** (B, T) token ids -> (B, T, H). */
    public NDArray forward(NDArray inputIds) {
        NDArray x = ((LayerNorm) child("norm")).forward(tokEmbeddings().forward(inputIds));
        return ((Dropout) child("drop")).forward(x);
    }
}
