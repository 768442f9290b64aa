package org.peft4j.embedding;

/** The training objective of a sentence-embedding run, and so the kind of training data it reads. */
public enum LossKind {
    /** In-batch-negatives InfoNCE over (anchor, positive[, hard negative]) pairs; pair JSONL. */
    INFONCE,
    /** Unsupervised SimCSE: each sentence encoded twice with dropout, the other view is its positive; sentences. */
    SIMCSE,
    /** MSE between cos(a, b) and a score; scored-pair JSONL. */
    COSINE
}
