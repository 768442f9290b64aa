package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;
import org.peft4j.nn.RMSNorm;
import org.peft4j.tensor.Functional;
import org.peft4j.tensor.Precision;
import org.peft4j.tensor.Scalars;

/**
 * Multi-head self-attention, softmax(scale · Q Kᵀ + mask) V per head (Vaswani et al. 2017, eq. 1),
 * with the options families differ in ({@link AttentionOptions}): grouped key/value heads, rotary
 * positions, RMS-normed queries and keys, soft-capped scores, dropout, a KV cache. Query, key,
 * value and output are separate linear children under the family's Hugging Face names, looked up
 * at each call so that an adapter can wrap any of them.
 */
public final class Attention extends Module {

    /**
     * The children's names.
     *
     * @param query   the query projection
     * @param key     the key projection
     * @param value   the value projection
     * @param output  the output projection, or null when the family puts it elsewhere (BERT)
     * @param dropout a named dropout child (BERT lists one), or null
     */
    public record Names(String query, String key, String value, String output, String dropout) {

        /** Llama's names, shared by Mistral, Qwen and Gemma. */
        public static final Names PROJ = new Names("q_proj", "k_proj", "v_proj", "o_proj", null);
        /** BERT's {@code attention.self}. */
        public static final Names BERT = new Names("query", "key", "value", null, "dropout");
    }

    private final AttentionOptions options;
    private final Names names;
    private final boolean qkNorm;

    /**
     * @param hidden     H, the input width
     * @param qkvBias    biases on the query, key and value projections
     * @param outputBias a bias on the output projection
     * @param qkNormEps  ε of the per-head RMSNorms {@code q_norm} and {@code k_norm} (Qwen 3), or null
     */
    public Attention(NDManager manager, int hidden, AttentionOptions options, Names names, boolean qkvBias,
                     boolean outputBias, Float qkNormEps) {
        this(manager, hidden, options, names, qkvBias, outputBias, qkNormEps, false);
    }

    /**
     * @param unitOffsetQkNorm the q/k norms scale by (1 + w), as Gemma 3's ({@link RMSNorm#unitOffset})
     */
    public Attention(NDManager manager, int hidden, AttentionOptions options, Names names, boolean qkvBias,
                     boolean outputBias, Float qkNormEps, boolean unitOffsetQkNorm) {
        this.options = options;
        this.names = names;
        this.qkNorm = qkNormEps != null;
        long q = (long) options.numHeads() * options.headDim();
        long kv = (long) options.numKvHeads() * options.headDim();
        addChild(names.query(), new Linear(manager, hidden, q, qkvBias));
        addChild(names.key(), new Linear(manager, hidden, kv, qkvBias));
        addChild(names.value(), new Linear(manager, hidden, kv, qkvBias));
        if (names.output() != null) {
            addChild(names.output(), new Linear(manager, q, hidden, outputBias));
        }
        if (names.dropout() != null) {
            addChild(names.dropout(), new Dropout(options.dropout()));
        }
        if (qkNorm) {
            addChild("q_norm", unitOffsetQkNorm ? RMSNorm.unitOffset(manager, options.headDim(), qkNormEps)
                    : new RMSNorm(manager, options.headDim(), qkNormEps));
            addChild("k_norm", unitOffsetQkNorm ? RMSNorm.unitOffset(manager, options.headDim(), qkNormEps)
                    : new RMSNorm(manager, options.headDim(), qkNormEps));
        }
    }

    public AttentionOptions options() {
        return options;
    }

    /**
     * @param x       (B, T, H)
     * @param ctx     masks, rotary angles and cache of this forward pass
     * @param layer   this layer's index in the cache
     * @param sliding whether this layer attends within the sliding window
     * @return (B, T, H) after the output projection, or (B, T, nh·hs) without one
     */
    public NDArray forward(NDArray x, AttentionContext ctx, int layer, boolean sliding) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDArray q = heads(linear(names.query()).forward(x), b, t, options.numHeads());       // (B, nh, T, hs)
        NDArray k = heads(linear(names.key()).forward(x), b, t, options.numKvHeads());       // (B, nkv, T, hs)
        NDArray v = heads(linear(names.value()).forward(x), b, t, options.numKvHeads());     // (B, nkv, T, hs)
        if (qkNorm) {
            q = ((RMSNorm) child("q_norm")).forward(q);
            k = ((RMSNorm) child("k_norm")).forward(k);
        }
        if (options.rotary()) {
            q = RotaryEmbedding.apply(q, ctx.cosFor(sliding), ctx.sinFor(sliding));
            k = RotaryEmbedding.apply(k, ctx.cosFor(sliding), ctx.sinFor(sliding));
        }
        NDArray y = attend(q, k, v, ctx.maskFor(sliding), ctx.cache(), layer, options, dropoutP())  // (B, nh, T, hs)
                .transpose(0, 2, 1, 3)                                                             // (B, T, nh, hs)
                .reshape(b, t, (long) options.numHeads() * options.headDim());                     // (B, T, nh·hs)
        return names.output() == null ? y : linear(names.output()).forward(y);
    }

    private float dropoutP() {
        return isTraining() ? options.dropout() : 0f;
    }

    /** (B, T, n·hs) -> (B, n, T, hs). */
    private NDArray heads(NDArray x, long b, long t, int n) {
        return x.reshape(b, t, n, options.headDim()).transpose(0, 2, 1, 3);
    }

    /**
     * The attention of already projected heads, for families whose projections differ (GPT-2's
     * fused {@code c_attn}): appends k and v to the cache, repeats key/value heads for their query
     * groups, then softmax(scale · Q Kᵀ + mask) V.
     *
     * @param q        (B, nh, T, hs)
     * @param k        (B, nkv, T, hs)
     * @param v        (B, nkv, T, hs)
     * @param mask     additive, broadcastable to (B, nh, T, S); or null
     * @param cache    or null
     * @param dropoutP dropout on the probabilities, 0 in evaluation
     * @return (B, nh, T, hs)
     */
    public static NDArray attend(NDArray q, NDArray k, NDArray v, NDArray mask, KvCache cache, int layer,
                                 AttentionOptions options, float dropoutP) {
        if (cache != null) {
            NDList all = cache.append(layer, k, v);
            k = all.get(0);                                                         // (B, nkv, S, hs)
            v = all.get(1);
        }
        k = repeatKv(k, options);                                                   // (B, nh, S, hs)
        v = repeatKv(v, options);
        if (options.softCap() > 0) {
            return softCapped(q, k, v, mask, options, dropoutP);
        }
        // a float32 mask makes half-precision scores float32, so the softmax runs in float32 (as HF's)
        return Functional.scaledDotProductAttention(q, k, v, mask, options.scale(), dropoutP);
    }

    /**
     * (B, nkv, S, hs) -> (B, nh, S, hs): query head h reads key/value head h / groups, as HF's
     * repeat_kv (an expand, then a reshape that copies once).
     */
    private static NDArray repeatKv(NDArray kv, AttentionOptions options) {
        int groups = options.groups();
        if (groups == 1) {
            return kv;
        }
        long b = kv.getShape().get(0);
        long s = kv.getShape().get(2);
        return kv.expandDims(2).broadcast(b, options.numKvHeads(), groups, s, options.headDim())
                .reshape(b, options.numHeads(), s, options.headDim());
    }

    /** As the engine's attention, with the scores capped at ±c by c · tanh(s / c) before the mask (Gemma 2). */
    private static NDArray softCapped(NDArray q, NDArray k, NDArray v, NDArray mask, AttentionOptions options,
                                      float dropoutP) {
        double cap = options.softCap();
        NDArray scores = Scalars.mul(q, options.scale()).matMul(k.transpose(0, 1, 3, 2));   // (B, nh, T, S)
        scores = Scalars.mul(Scalars.div(scores, cap).tanh(), cap);
        if (mask != null) {
            scores = scores.add(mask);
        }
        NDArray probs = Precision.like(scores.softmax(-1), v);                               // (B, nh, T, S)
        if (dropoutP > 0f) {
            probs = Functional.dropout(probs, dropoutP);
        }
        return probs.matMul(v);                                                              // (B, nh, T, hs)
    }
}
