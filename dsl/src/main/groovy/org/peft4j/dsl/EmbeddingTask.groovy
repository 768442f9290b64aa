package org.peft4j.dsl

import org.peft4j.embedding.LossKind
import org.peft4j.embedding.PoolingMode

/**
 * What {@code embedding(pooling: 'mean', loss: 'infonce', temperature: 0.05)} returns for {@code task}: a
 * sentence-embedding run instead of a classifier. A word the DSL could not read is reported where it was written.
 */
record EmbeddingTask(PoolingMode pooling, LossKind loss, double temperature) {
}
