package org.peft4j.models.deberta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Functional;
import org.peft4j.tensor.Scalars;

/**
 * DeBERTa's disentangled self-attention (He et al. 2021, eq. 2 and 4): the score of query i and key j
 * adds to the content term Q_i·K_j the content-to-position term Q_i·K^r_δ(i,j) and the
 * position-to-content term K_j·Q^r_δ(j,i), all divided by √(d · (1 + number of position terms)).
 * The relative embeddings are projected by the content projections when {@code share_att_key}
 * (DeBERTa-v3), else by {@code pos_key_proj} and {@code pos_query_proj}; the projection is a call of
 * the child layer, so an adapter on {@code query_proj} acts on the relative embeddings too, as in
 * Hugging Face. Children: {@code query_proj}, {@code key_proj}, {@code value_proj}, {@code pos_dropout},
 * {@code dropout}.
 */
public final class DisentangledSelfAttention extends Module {

    private final DebertaV2Config config;
    private final int heads;
    private final int headSize;

    public DisentangledSelfAttention(NDManager manager, DebertaV2Config config) {
        this.config = config;
        this.heads = config.numAttentionHeads();
        this.headSize = config.attentionHeadSize();
        int h = config.hiddenSize();
        int all = config.allHeadSize();
        addChild("query_proj", new Linear(manager, h, all, true));
        addChild("key_proj", new Linear(manager, h, all, true));
        addChild("value_proj", new Linear(manager, h, all, true));
        if (config.relativeAttention()) {
            addChild("pos_dropout", new Dropout((float) config.hiddenDropoutProb()));
            if (!config.shareAttKey() && config.positionAttention().contains(PositionAttention.C2P)) {
                addChild("pos_key_proj", new Linear(manager, h, all, true));
            }
            if (!config.shareAttKey() && config.positionAttention().contains(PositionAttention.P2C)) {
                addChild("pos_query_proj", new Linear(manager, h, all, true));
            }
        }
        addChild("dropout", new Dropout((float) config.attentionProbsDropoutProb()));
    }

    /**
     * @param x              (B, T, H)
     * @param mask           additive (B, 1, T, T), or null when nothing is padded
     * @param relEmbeddings  (2·span, H) the (normed) relative-embedding table, or null without relative attention
     * @param relativeIndex  (T, T) int64 table rows of the (query, key) pairs ({@link RelativePositions#index})
     * @return (B, T, nh·d)
     */
    public NDArray forward(NDArray x, NDArray mask, NDArray relEmbeddings, NDArray relativeIndex) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDArray q = heads(linear("query_proj").forward(x));                               // (B, nh, T, d)
        NDArray k = heads(linear("key_proj").forward(x));                                 // (B, nh, T, d)
        NDArray v = heads(linear("value_proj").forward(x));                               // (B, nh, T, d)
        double scale = 1.0 / Math.sqrt((double) headSize * config.scaleFactor());
        NDArray bias = mask;
        NDArray position = config.relativeAttention() ? positionScores(q, k, relEmbeddings, relativeIndex, b, t) : null;
        if (position != null) {
            NDArray rel = Scalars.mul(position, scale);                                   // (B, nh, T, T)
            bias = bias == null ? rel : bias.add(rel);
        }
        Dropout dropout = (Dropout) child("dropout");
        float p = dropout.isTraining() ? dropout.p() : 0f;
        // the position terms ride on the mask: softmax(scale · Q Kᵀ + mask + scale · (c2p + p2c)) V
        return Functional.scaledDotProductAttention(q, k, v, bias, scale, p)              // (B, nh, T, d)
                .transpose(0, 2, 1, 3).reshape(b, t, (long) heads * headSize);            // (B, T, nh·d)
    }

    /** c2p + p2c, unscaled: (B, nh, T, T); null when pos_att_type names neither. */
    private NDArray positionScores(NDArray q, NDArray k, NDArray relEmbeddings, NDArray relativeIndex, long b,
                                   long t) {
        NDArray rel = ((Dropout) child("pos_dropout")).forward(relEmbeddings).expandDims(0);  // (1, 2·span, H)
        boolean shared = config.shareAttKey();
        NDArray scores = null;
        if (config.positionAttention().contains(PositionAttention.C2P)) {
            NDArray posKey = heads(linear(shared ? "key_proj" : "pos_key_proj").forward(rel));      // (1, nh, 2·span, d)
            NDArray all = q.matMul(posKey.transpose(0, 1, 3, 2));                                   // (B, nh, T, 2·span)
            scores = all.gather(relativeIndex.broadcast(b, heads, t, t), 3);                        // (B, nh, T, T)
        }
        if (config.positionAttention().contains(PositionAttention.P2C)) {
            NDArray posQuery = heads(linear(shared ? "query_proj" : "pos_query_proj").forward(rel)); // (1, nh, 2·span, d)
            NDArray all = k.matMul(posQuery.transpose(0, 1, 3, 2));                                 // (B, nh, T_k, 2·span)
            NDArray p2c = all.gather(relativeIndex.transpose().broadcast(b, heads, t, t), 3)        // (B, nh, T_k, T_q)
                    .transpose(0, 1, 3, 2);                                                         // (B, nh, T_q, T_k)
            scores = scores == null ? p2c : scores.add(p2c);
        }
        return scores;
    }

    /** (B, T, nh·d) -> (B, nh, T, d). */
    private NDArray heads(NDArray x) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        return x.reshape(b, t, heads, headSize).transpose(0, 2, 1, 3);
    }
}
