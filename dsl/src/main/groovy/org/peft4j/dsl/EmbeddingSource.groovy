package org.peft4j.dsl

import org.peft4j.embedding.LossKind

import java.nio.file.Path

/**
 * A training file of an embedding recipe and the shape its lines have: {@code pairs('...')} (anchor, positive
 * [, negative]) for InfoNCE, {@code sentences('...')} for SimCSE, {@code scored('...')} (a, b, score) for cosine
 * regression and for Spearman's ρ. {@code format} is the loss that reads that shape.
 */
record EmbeddingSource(Path path, LossKind format) {

    /** How the recipe writes this kind of file, for messages. */
    String helper() {
        switch (format) {
            case LossKind.INFONCE: return 'pairs'
            case LossKind.SIMCSE: return 'sentences'
            default: return 'scored'
        }
    }
}
