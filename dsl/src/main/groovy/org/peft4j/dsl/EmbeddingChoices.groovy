package org.peft4j.dsl

import groovy.transform.CompileStatic
import org.peft4j.embedding.LossKind
import org.peft4j.embedding.PoolingMode

/**
 * Reads the words of {@code embedding(pooling: ..., loss: ...)} into the runtime's enums. A word that is not one
 * of them is reported at the recipe line with the valid words and the nearest one, and reads as the first valid
 * word, so that the runtime's validation does not report it a second time.
 */
@CompileStatic
final class EmbeddingChoices {

    static final Map<String, PoolingMode> POOLING = [mean: PoolingMode.MEAN, cls: PoolingMode.CLS]
    static final Map<String, LossKind> LOSSES = [infonce: LossKind.INFONCE, simcse: LossKind.SIMCSE, cosine: LossKind.COSINE]

    private EmbeddingChoices() {
    }

    static PoolingMode pooling(Origins origins, String word) {
        choose(origins, 'pooling', word, POOLING)
    }

    static LossKind loss(Origins origins, String word) {
        choose(origins, 'loss', word, LOSSES)
    }

    private static <T> T choose(Origins origins, String option, String word, Map<String, T> valid) {
        T found = valid[word]
        if (found == null) {
            String guess = Options.closest(word, valid.keySet())
            origins.problem("embedding ${option} '${word}' is not valid${guess ? "; did you mean '${guess}'?" : ''};".toString() +
                    " valid: ${valid.keySet().join(', ')}")
            return valid.values().first()
        }
        found
    }
}
