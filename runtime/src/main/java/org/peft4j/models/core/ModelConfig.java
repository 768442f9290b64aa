package org.peft4j.models.core;

import java.util.List;

/**
 * What every family's typed config tells about its model's size, for estimates and for commands
 * that need a model's limits without loading it.
 */
public interface ModelConfig {

    /** The fields every config may carry (model_type, eos_token_id, dtype). */
    CommonFields common();

    /** H, the width of the residual stream. */
    int hiddenSize();

    /** The number of transformer layers. */
    int numLayers();

    /** Query heads per layer. */
    int numHeads();

    /** Rows of the token embedding. */
    int vocabSize();

    /** The longest sequence the model takes. */
    int maxPositions();

    /** Parameters of the embedding tables (tokens, positions, segments): what Kaplan et al.'s N leaves out. */
    long embeddingParameters();

    default String modelType() {
        return common().modelType();
    }

    default List<Integer> eosTokenIds() {
        return common().eosTokenIds();
    }
}
