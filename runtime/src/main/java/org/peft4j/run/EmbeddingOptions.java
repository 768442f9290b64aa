package org.peft4j.run;

import org.peft4j.embedding.LossKind;
import org.peft4j.embedding.PoolingMode;

import java.util.ArrayList;
import java.util.List;

/**
 * What a sentence-embedding run needs beyond a model and files.
 *
 * @param pooling     how token states become the sentence vector
 * @param loss        the objective, which also fixes the training-data format (pairs, sentences, scored pairs)
 * @param temperature τ of InfoNCE / SimCSE (ignored by COSINE); 0.05 as in SimCSE
 */
public record EmbeddingOptions(PoolingMode pooling, LossKind loss, double temperature) {

    public List<String> validate() {
        List<String> p = new ArrayList<>();
        if (pooling == null) {
            p.add("pooling is missing; valid: MEAN, CLS");
        }
        if (loss == null) {
            p.add("loss is missing; valid: INFONCE, SIMCSE, COSINE");
        }
        if (loss != LossKind.COSINE && !(temperature > 0 && temperature <= 1)) {
            p.add("temperature = " + temperature + " must be in (0, 1]; SimCSE uses 0.05");
        }
        return p;
    }

    /** True when the loss contrasts each row with the other rows of its batch. */
    boolean inBatchNegatives() {
        return loss != LossKind.COSINE;
    }
}
