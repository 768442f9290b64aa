package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;

/**
 * What every layer of one forward pass shares: the masks, the rotary angles and the cache.
 *
 * @param mask        additive mask of full-attention layers, broadcastable to (B, nh, T, S); or null
 * @param slidingMask additive mask of sliding-window layers, or null when there are none
 * @param cos         (B, 1, T, hs) rotary cosines of the new positions, or null without rotary embeddings
 * @param sin         likewise the sines
 * @param slidingCos  the cosines of sliding-window layers (the same array as {@code cos} unless their
 *                    rotary parameters differ, as Gemma 3's local base does)
 * @param slidingSin  likewise the sines
 * @param cache       past keys and values, extended by each layer; or null
 */
public record AttentionContext(NDArray mask, NDArray slidingMask, NDArray cos, NDArray sin, NDArray slidingCos,
                               NDArray slidingSin, KvCache cache) {

    /** One set of rotary angles for every layer. */
    public AttentionContext(NDArray mask, NDArray slidingMask, NDArray cos, NDArray sin, KvCache cache) {
        this(mask, slidingMask, cos, sin, cos, sin, cache);
    }

    /** An encoder's context: one mask, nothing else. */
    public static AttentionContext masked(NDArray mask) {
        return new AttentionContext(mask, null, null, null, null);
    }

    /** The same context for a re-run without a cache (activation checkpointing never re-runs a cached pass). */
    public AttentionContext uncached() {
        return cache == null ? this : new AttentionContext(mask, slidingMask, cos, sin, slidingCos, slidingSin, null);
    }

    /** The mask of a layer of this kind. */
    public NDArray maskFor(boolean sliding) {
        return sliding ? slidingMask : mask;
    }

    /** The rotary cosines of a layer of this kind. */
    public NDArray cosFor(boolean sliding) {
        return sliding ? slidingCos : cos;
    }

    /** The rotary sines of a layer of this kind. */
    public NDArray sinFor(boolean sliding) {
        return sliding ? slidingSin : sin;
    }
}
