package org.peft4j.models.core;

/**
 * What multi-head attention variants differ in, beyond their projections.
 *
 * @param numHeads   nh, query heads
 * @param numKvHeads nkv, key/value heads; nh must be a multiple (grouped-query attention, Ainslie et al.
 *                   2023); nkv = nh is plain multi-head attention
 * @param headDim    hs, the width of one head
 * @param scale      the factor on Q Kᵀ, usually 1 / √hs
 * @param dropout    dropout on the attention probabilities while training
 * @param softCap    c &gt; 0 caps the scores at ±c as c · tanh(s / c) before the mask (Gemma 2); 0 for none
 * @param rotary     whether queries and keys are rotated (the context must then carry cos and sin)
 */
public record AttentionOptions(int numHeads, int numKvHeads, int headDim, double scale, float dropout, double softCap,
                               boolean rotary) {

    public AttentionOptions {
        if (numHeads <= 0 || numKvHeads <= 0 || numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("numHeads = " + numHeads + " must be a positive multiple of numKvHeads = "
                    + numKvHeads);
        }
        if (headDim <= 0 || (rotary && headDim % 2 != 0)) {
            throw new IllegalArgumentException("headDim = " + headDim + " must be positive (and even with rotary embeddings)");
        }
        if (!(dropout >= 0 && dropout < 1) || !(softCap >= 0)) {
            throw new IllegalArgumentException("dropout = " + dropout + " must be in [0, 1) and softCap = " + softCap
                    + " >= 0");
        }
    }

    /** Multi-head attention with the usual 1 / √hs scale, no rotation. */
    public static AttentionOptions multiHead(int numHeads, int headDim, float dropout) {
        return new AttentionOptions(numHeads, numHeads, headDim, 1.0 / Math.sqrt(headDim), dropout, 0, false);
    }

    /** Grouped-query attention with rotary positions and the 1 / √hs scale. */
    public static AttentionOptions rotary(int numHeads, int numKvHeads, int headDim, float dropout) {
        return new AttentionOptions(numHeads, numKvHeads, headDim, 1.0 / Math.sqrt(headDim), dropout, 0, true);
    }

    /** nh / nkv: how many query heads share one key/value head. */
    public int groups() {
        return numHeads / numKvHeads;
    }
}
