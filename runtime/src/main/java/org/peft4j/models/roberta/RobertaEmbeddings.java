package org.peft4j.models.roberta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.peft4j.models.bert.BertConfig;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Embedding;
import org.peft4j.nn.LayerNorm;
import org.peft4j.nn.Module;

/**
 * RoBERTa's embeddings (Liu et al. 2019): BERT's word + position + token-type sum, LayerNorm and
 * dropout, except that positions count only real tokens and start after the padding index, as
 * Hugging Face's {@code create_position_ids_from_input_ids}:
 * {@code position = cumsum(ids != pad) · (ids != pad) + pad}. Padding therefore sits at position
 * {@code pad} and the first real token at {@code pad + 1}, wherever the padding is.
 */
public final class RobertaEmbeddings extends Module {

    private final int padId;

    public RobertaEmbeddings(NDManager manager, BertConfig config) {
        this.padId = config.padTokenId();
        addChild("word_embeddings", new Embedding(manager, config.vocabSize(), config.hiddenSize()));
        addChild("position_embeddings", new Embedding(manager, config.maxPositionEmbeddings(), config.hiddenSize()));
        addChild("token_type_embeddings", new Embedding(manager, config.typeVocabSize(), config.hiddenSize()));
        addChild("LayerNorm", new LayerNorm(manager, config.hiddenSize(), (float) config.layerNormEps()));
        addChild("dropout", new Dropout((float) config.hiddenDropoutProb()));
    }

    /** (B, T) int64 position ids with the padding offset, computed from the token ids as HF does. */
    public NDArray positionIds(NDArray inputIds) {
        NDArray real = inputIds.neq(padId).toType(DataType.INT64, false);   // (B, T) 1 on real tokens
        return real.cumSum(1).mul(real).add(padId);                          // (B, T)
    }

    /**
     * @param inputIds     (B, T) token ids, the pad id in padding positions
     * @param tokenTypeIds (B, T) or null for all zeros (RoBERTa has a single token type)
     * @return (B, T, H)
     */
    public NDArray forward(NDArray inputIds, NDArray tokenTypeIds) {
        NDArray types = tokenTypeIds != null ? tokenTypeIds : inputIds.zerosLike();
        NDArray x = embedding("word_embeddings").forward(inputIds)                  // (B, T, H)
                .add(embedding("position_embeddings").forward(positionIds(inputIds)))
                .add(embedding("token_type_embeddings").forward(types));
        x = ((LayerNorm) child("LayerNorm")).forward(x);
        return ((Dropout) child("dropout")).forward(x);
    }

    private Embedding embedding(String name) {
        return (Embedding) child(name);
    }
}
