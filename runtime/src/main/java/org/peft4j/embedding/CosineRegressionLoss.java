package org.peft4j.embedding;

import ai.djl.ndarray.NDArray;

/**
 * For scored pairs (STS-style): mean over the batch of (cos(aᵢ, bᵢ) − sᵢ)², as sentence-transformers'
 * CosineSimilarityLoss (Reimers &amp; Gurevych 2019).
 */
public final class CosineRegressionLoss {

    private CosineRegressionLoss() {
    }

    /**
     * @param a      (B, H) sentence vectors (normalised here, so raw vectors work too)
     * @param b      (B, H)
     * @param scores (B) target similarities
     */
    public static NDArray loss(NDArray a, NDArray b, NDArray scores) {
        NDArray cos = a.normalize(2, 1, 1e-12).mul(b.normalize(2, 1, 1e-12)).sum(new int[] {1});   // (B)
        NDArray diff = cos.sub(scores.toType(cos.getDataType(), false));
        return diff.mul(diff).mean();
    }
}
