package org.peft4j.models.modernbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.peft4j.models.core.EncoderInputs;
import org.peft4j.models.core.LayerStack;
import org.peft4j.models.core.LayerType;
import org.peft4j.models.core.Masks;
import org.peft4j.models.core.RotaryEmbedding;
import org.peft4j.models.core.Task;
import org.peft4j.models.core.TokenEncoder;
import org.peft4j.nn.LayerNorm;
import org.peft4j.nn.Module;
import org.peft4j.nn.ModuleList;
import org.peft4j.tensor.Precision;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The ModernBERT encoder (Warner et al. 2024) with Hugging Face names: {@code embeddings.*},
 * {@code layers.N.*}, {@code final_norm}. Rotary positions 0..T−1 in every row, padded or not, with
 * a base per layer type; global layers attend to every real token, local layers to real tokens
 * within local_attention / 2 on either side. Returns the last hidden state.
 */
public final class ModernBertModel extends Module implements TokenEncoder {

    private final ModernBertConfig config;
    private final RotaryEmbedding globalRotary;
    private final RotaryEmbedding localRotary;
    private final ModuleList<ModernBertLayer> layers;

    /** A model with placeholder weights. */
    public ModernBertModel(NDManager manager, ModernBertConfig config) {
        this.config = config;
        this.globalRotary = new RotaryEmbedding(manager, config.headDim(), config.globalRope());
        this.localRotary = new RotaryEmbedding(manager, config.headDim(), config.localRope());
        addChild("embeddings", new ModernBertEmbeddings(manager, config));
        List<ModernBertLayer> list = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            list.add(new ModernBertLayer(manager, config, i));
        }
        layers = addChild("layers", new ModuleList<>(list));
        addChild("final_norm", new LayerNorm(manager, config.hiddenSize(), (float) config.normEps(), config.normBias()));
    }

    /** Loads a Hugging Face directory (a bare ModernBertModel or a task model's {@code model.}-prefixed weights). */
    public static ModernBertModel fromPretrained(Path dir) throws IOException {
        return (ModernBertModel) ModernBertFamily.INSTANCE.load(dir, Task.ENCODER);
    }

    public ModernBertConfig config() {
        return config;
    }

    @Override
    public int maxLength() {
        return config.maxPositionEmbeddings();
    }

    /**
     * @param inputIds      (B, T)
     * @param attentionMask (B, T) 1 for real tokens, 0 for padding; or null
     * @param tokenTypeIds  not used: ModernBERT has no segment embedding
     * @return (B, T, H)
     */
    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        long t = EncoderInputs.check(inputIds, attentionMask, tokenTypeIds, config.maxPositionEmbeddings());
        NDManager m = inputIds.getManager();
        ModernBertEmbeddings embeddings = (ModernBertEmbeddings) child("embeddings");
        NDArray x = embeddings.forward(inputIds);                                             // (B, T, H)
        NDArray positions = m.arange(0, t, 1, DataType.INT64).reshape(1, t);                  // (1, T)
        NDList global = globalRotary.cosSin(positions);                                       // (1, 1, T, hs) each
        NDList local = localRotary.cosSin(positions);
        // float32 masks keep the softmax in float32 whatever the weights' dtype, as HF's eager attention
        NDArray fullMask = attentionMask == null ? null : Masks.padding(attentionMask, DataType.FLOAT32);
        NDArray localMask = config.layerTypes().contains(LayerType.SLIDING_ATTENTION)
                ? Masks.bidirectional(m, attentionMask, t, config.halfWindow(), DataType.FLOAT32) : null;
        NDArray gc = Precision.like(global.get(0), x);
        NDArray gs = Precision.like(global.get(1), x);
        NDArray lc = Precision.like(local.get(0), x);
        NDArray ls = Precision.like(local.get(1), x);
        x = LayerStack.forward(layers, x, embeddings.trainableParameterCount() > 0, false,
                (layer, h) -> layer.type() == LayerType.SLIDING_ATTENTION
                        ? layer.forward(h, localMask, lc, ls) : layer.forward(h, fullMask, gc, gs));
        return ((LayerNorm) child("final_norm")).forward(x);                                 // (B, T, H)
    }
}
