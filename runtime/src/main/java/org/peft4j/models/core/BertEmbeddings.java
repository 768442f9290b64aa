package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Embedding;
import org.peft4j.nn.LayerNorm;
import org.peft4j.nn.Module;

/**
 * Word + absolute position + token-type embeddings, then LayerNorm and dropout. Positions either
 * count from 0 (BERT), or, with {@code paddingOffset} (RoBERTa, Liu et al. 2019), count only real
 * tokens and start after the padding index, as Hugging Face's {@code create_position_ids_from_input_ids}:
 * {@code position = cumsum(ids != pad) · (ids != pad) + pad}, so padding sits at position {@code pad}
 * and the first real token at {@code pad + 1}, wherever the padding is.
 */
public final class BertEmbeddings extends Module {

    private final boolean paddingOffset;
    private final int padId;

    public BertEmbeddings(NDManager manager, BertConfig config, boolean paddingOffset) {
        this.paddingOffset = paddingOffset;
        this.padId = config.padTokenId();
        addChild("word_embeddings", new Embedding(manager, config.vocabSize(), config.hiddenSize()));
        addChild("position_embeddings", new Embedding(manager, config.maxPositionEmbeddings(), config.hiddenSize()));
        addChild("token_type_embeddings", new Embedding(manager, config.typeVocabSize(), config.hiddenSize()));
        // HF's name, capitalised, so checkpoints map one to one
        addChild("LayerNorm", new LayerNorm(manager, config.hiddenSize(), (float) config.layerNormEps()));
        addChild("dropout", new Dropout((float) config.hiddenDropoutProb()));
    }

    /** The longest input: {@code max_position_embeddings}, less {@code pad + 1} with the padding offset. */
    public int maxLength(BertConfig config) {
        return paddingOffset ? config.maxPositionEmbeddings() - config.padTokenId() - 1 : config.maxPositionEmbeddings();
    }

    /** Position ids: (T) from 0, or (B, T) with the padding offset, computed from the token ids as HF does. */
    public NDArray positionIds(NDArray inputIds) {
        if (!paddingOffset) {
            return inputIds.getManager().arange(0, (int) inputIds.getShape().get(1), 1, DataType.INT64); // (T)
        }
        NDArray real = inputIds.neq(padId).toType(DataType.INT64, false);   // (B, T) 1 on real tokens
        return real.cumSum(1).mul(real).add(padId);                          // (B, T)
    }

    /**
     * @param inputIds     (B, T) token ids, the pad id in padding positions
     * @param tokenTypeIds (B, T) segment ids, or null for all zeros
     * @return (B, T, H)
     */
    public NDArray forward(NDArray inputIds, NDArray tokenTypeIds) {
        NDArray types = tokenTypeIds != null ? tokenTypeIds : inputIds.zerosLike();       // (B, T)
        NDArray x = embedding("word_embeddings").forward(inputIds)                        // (B, T, H)
                .add(embedding("position_embeddings").forward(positionIds(inputIds)))     // + (T or B·T, H)
                .add(embedding("token_type_embeddings").forward(types));                  // + (B, T, H)
        x = ((LayerNorm) child("LayerNorm")).forward(x);
        return ((Dropout) child("dropout")).forward(x);
    }

    private Embedding embedding(String name) {
        return (Embedding) child(name);
    }
}
