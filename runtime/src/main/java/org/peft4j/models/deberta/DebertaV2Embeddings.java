package org.peft4j.models.deberta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Embedding;
import org.peft4j.nn.LayerNorm;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

/**
 * Word embeddings, plus absolute positions ({@code position_biased_input}) and token types when the
 * config has them, projected to H when {@code embedding_size} differs; then LayerNorm, padding
 * positions set to zero, and dropout. DeBERTa-v3 has words only: positions enter as relative ones.
 */
public final class DebertaV2Embeddings extends Module {

    public DebertaV2Embeddings(NDManager manager, DebertaV2Config config) {
        int e = config.embeddingSize();
        addChild("word_embeddings", new Embedding(manager, config.vocabSize(), e));
        if (config.positionBiasedInput()) {
            addChild("position_embeddings", new Embedding(manager, config.maxPositionEmbeddings(), e));
        }
        if (config.typeVocabSize() > 0) {
            addChild("token_type_embeddings", new Embedding(manager, config.typeVocabSize(), e));
        }
        if (e != config.hiddenSize()) {
            addChild("embed_proj", new Linear(manager, e, config.hiddenSize(), false));
        }
        addChild("LayerNorm", new LayerNorm(manager, config.hiddenSize(), (float) config.layerNormEps()));
        addChild("dropout", new Dropout((float) config.hiddenDropoutProb()));
    }

    /**
     * @param inputIds      (B, T)
     * @param attentionMask (B, T) 1 for real tokens, 0 for padding; or null
     * @param tokenTypeIds  (B, T), or null for all zeros
     * @return (B, T, H)
     */
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        NDArray x = embedding("word_embeddings").forward(inputIds);                          // (B, T, E)
        if (children().containsKey("position_embeddings")) {
            long t = inputIds.getShape().get(1);
            NDArray positions = inputIds.getManager().arange(0, t, 1, DataType.INT64);        // (T)
            x = x.add(embedding("position_embeddings").forward(positions));
        }
        if (children().containsKey("token_type_embeddings")) {
            x = x.add(embedding("token_type_embeddings").forward(tokenTypeIds != null ? tokenTypeIds
                    : inputIds.zerosLike()));
        }
        if (children().containsKey("embed_proj")) {
            x = linear("embed_proj").forward(x);                                              // (B, T, H)
        }
        x = ((LayerNorm) child("LayerNorm")).forward(x);
        if (attentionMask != null) {
            x = x.mul(attentionMask.toType(x.getDataType(), false).expandDims(-1));            // padding -> 0
        }
        return ((Dropout) child("dropout")).forward(x);
    }

    Embedding embedding(String name) {
        return (Embedding) child(name);
    }
}
