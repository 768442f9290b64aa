package org.peft4j.models.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Embedding;
import org.peft4j.nn.LayerNorm;
import org.peft4j.nn.Module;

/** Word + absolute position + token-type embeddings, then LayerNorm and dropout. */
public final class BertEmbeddings extends Module {

    public BertEmbeddings(NDManager manager, BertConfig config) {
        addChild("word_embeddings", new Embedding(manager, config.vocabSize(), config.hiddenSize()));
        addChild("position_embeddings", new Embedding(manager, config.maxPositionEmbeddings(), config.hiddenSize()));
        addChild("token_type_embeddings", new Embedding(manager, config.typeVocabSize(), config.hiddenSize()));
        // HF's name, capitalised, so checkpoints map one to one
        addChild("LayerNorm", new LayerNorm(manager, config.hiddenSize(), (float) config.layerNormEps()));
        addChild("dropout", new Dropout((float) config.hiddenDropoutProb()));
    }

    /**
     * @param inputIds     (B, T) token ids
     * @param tokenTypeIds (B, T) segment ids, or null for all zeros
     * @return (B, T, H)
     */
    public NDArray forward(NDArray inputIds, NDArray tokenTypeIds) {
        long t = inputIds.getShape().get(1);
        NDArray positionIds = inputIds.getManager().arange(0, (int) t, 1, DataType.INT64); // (T)
        NDArray types = tokenTypeIds != null ? tokenTypeIds : inputIds.zerosLike();       // (B, T)
        NDArray x = embedding("word_embeddings").forward(inputIds)                        // (B, T, H)
                .add(embedding("position_embeddings").forward(positionIds))               // + (T, H)
                .add(embedding("token_type_embeddings").forward(types));                  // + (B, T, H)
        x = ((LayerNorm) child("LayerNorm")).forward(x);
        return ((Dropout) child("dropout")).forward(x);
    }

    private Embedding embedding(String name) {
        return (Embedding) child(name);
    }
}
