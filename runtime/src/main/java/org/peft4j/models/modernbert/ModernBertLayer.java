package org.peft4j.models.modernbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.LayerType;
import org.peft4j.nn.LayerNorm;
import org.peft4j.nn.Module;
import org.peft4j.tensor.LayerScope;

/**
 * One pre-norm ModernBERT layer: x + attn(attn_norm(x)), then + mlp(mlp_norm(·)). Layer 0 has no
 * {@code attn_norm}: its input is the embeddings' output, already normed.
 */
public final class ModernBertLayer extends Module {

    private final LayerType type;

    public ModernBertLayer(NDManager manager, ModernBertConfig config, int index) {
        this.type = config.layerTypes().get(index);
        float eps = (float) config.normEps();
        if (index > 0) {
            addChild("attn_norm", new LayerNorm(manager, config.hiddenSize(), eps, config.normBias()));
        }
        addChild("attn", new ModernBertAttention(manager, config));
        addChild("mlp_norm", new LayerNorm(manager, config.hiddenSize(), eps, config.normBias()));
        addChild("mlp", new ModernBertMlp(manager, config));
    }

    /** Whether this layer attends globally or within the local window. */
    public LayerType type() {
        return type;
    }

    /** (B, T, H) -> (B, T, H); {@code mask}, {@code cos} and {@code sin} are those of this layer's type. */
    public NDArray forward(NDArray x, NDArray mask, NDArray cos, NDArray sin) {
        // the layer's temporaries are released when it returns, not at the end of the step
        return LayerScope.run(() -> {
            NDArray normed = children().containsKey("attn_norm") ? ((LayerNorm) child("attn_norm")).forward(x) : x;
            NDArray h = x.add(((ModernBertAttention) child("attn")).forward(normed, mask, cos, sin));
            NDArray m = ((ModernBertMlp) child("mlp")).forward(((LayerNorm) child("mlp_norm")).forward(h));
            return h.add(m);
        });
    }
}
