package org.peft4j.data;

import ai.djl.ndarray.NDArray;

public record Batch(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds, NDArray labels, long tokens) {
}
