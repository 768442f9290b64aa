package org.peft4j.embedding;

/** How token states become one sentence vector. */
public enum PoolingMode {
    /** Mean of the real tokens' states (sentence-transformers' default; what MiniLM was trained with). */
    MEAN,
    /** The first token's state ([CLS] / &lt;s&gt;), as SimCSE's original models and many BERT retrievers. */
    CLS
}
