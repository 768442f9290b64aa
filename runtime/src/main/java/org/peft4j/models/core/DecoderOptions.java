package org.peft4j.models.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What decoders in Llama's layout differ in beyond their shape, each off in Llama itself.
 *
 * @param qkNorm             per-head RMSNorms {@code q_norm} and {@code k_norm} over head_dim on queries and keys
 *                           before the rotation (Qwen 3, Gemma 3)
 * @param unitOffsetNorms    every RMSNorm scales by (1 + w), w starting at zero (Gemma)
 * @param sandwichNorms      the attention and MLP outputs are normalised too before each residual add
 *                           (Gemma 2 and 3): {@code post_attention_layernorm} after attention,
 *                           {@code pre_feedforward_layernorm} and {@code post_feedforward_layernorm} around the MLP
 * @param embeddingScale     the factor on the token embeddings (Gemma: √H); 1 for none
 * @param queryPreAttnScalar s &gt; 0 makes the scores' scale s^−½ instead of head_dim^−½ (Gemma); 0 for head_dim
 * @param finalLogitSoftCap  c &gt; 0 caps the logits at c · tanh(l / c) (Gemma 2 and 3); 0 for none
 * @param slidingRope        the rotary parameters of sliding-window layers when they differ from the config's
 *                           (Gemma 3: a local base); null for the same everywhere
 * @param noRopeLayers       the layers that attend without rotary positions (SmolLM3's NoPE layers)
 */
public record DecoderOptions(boolean qkNorm, boolean unitOffsetNorms, boolean sandwichNorms, double embeddingScale,
                             double queryPreAttnScalar, double finalLogitSoftCap, RopeParameters slidingRope,
                             Set<Integer> noRopeLayers) {

    /** Llama's: none of the above. */
    public static final DecoderOptions LLAMA = new DecoderOptions(false, false, false, 1, 0, 0, null, Set.of());

    public DecoderOptions {
        noRopeLayers = Set.copyOf(new TreeSet<>(noRopeLayers));
        List<String> p = new ArrayList<>();
        if (!(embeddingScale > 0)) {
            p.add("embedding scale = " + embeddingScale + " must be > 0");
        }
        if (!(queryPreAttnScalar >= 0)) {
            p.add("query_pre_attn_scalar = " + queryPreAttnScalar + " must be > 0");
        }
        if (!(finalLogitSoftCap >= 0)) {
            p.add("final_logit_softcapping = " + finalLogitSoftCap + " must be > 0, or null for none");
        }
        if (noRopeLayers.stream().anyMatch(i -> i < 0)) {
            p.add("no-rope layer indices " + noRopeLayers + " must be >= 0");
        }
        if (!p.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", p));
        }
    }

    /** These options with q_norm and k_norm on. */
    public DecoderOptions withQkNorm() {
        return new DecoderOptions(true, unitOffsetNorms, sandwichNorms, embeddingScale, queryPreAttnScalar,
                finalLogitSoftCap, slidingRope, noRopeLayers);
    }

    /**
     * Gemma's: (1 + w) norms, sandwich norms, q/k norms, the embedding scale, the query scalar, the
     * final soft-cap and the sliding layers' rotary parameters.
     */
    public static DecoderOptions gemma(double embeddingScale, double queryPreAttnScalar, double finalLogitSoftCap,
                                       RopeParameters slidingRope) {
        return new DecoderOptions(true, true, true, embeddingScale, queryPreAttnScalar, finalLogitSoftCap, slidingRope,
                Set.of());
    }

    /** These options with {@code layers} attending without rotary positions. */
    public DecoderOptions withNoRopeLayers(Set<Integer> layers) {
        return new DecoderOptions(qkNorm, unitOffsetNorms, sandwichNorms, embeddingScale, queryPreAttnScalar,
                finalLogitSoftCap, slidingRope, layers);
    }

    /** Whether layer {@code index} rotates its queries and keys. */
    public boolean rotary(int index) {
        return !noRopeLayers.contains(index);
    }
}
