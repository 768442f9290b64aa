package org.peft4j.models.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.peft4j.models.core.AttentionContext;
import org.peft4j.models.core.DecoderBackbone;
import org.peft4j.models.core.KvCache;
import org.peft4j.models.core.LayerStack;
import org.peft4j.models.core.Masks;
import org.peft4j.nn.Dropout;
import org.peft4j.nn.Embedding;
import org.peft4j.nn.LayerNorm;
import org.peft4j.nn.Module;
import org.peft4j.nn.ModuleList;

import java.util.ArrayList;
import java.util.List;

/**
 * The GPT-2 decoder (Radford et al. 2019) with Hugging Face names: token embedding {@code wte},
 * learned positions {@code wpe}, blocks {@code h.N}, final {@code ln_f}.
 */
public final class GPT2Model extends Module implements DecoderBackbone {

    private final GPT2Config config;
    private final ModuleList<GPT2Block> blocks;

    public GPT2Model(NDManager manager, GPT2Config config) {
        this.config = config;
        addChild("wte", new Embedding(manager, config.vocabSize(), config.nEmbd()));
        addChild("wpe", new Embedding(manager, config.nPositions(), config.nEmbd()));
        addChild("drop", new Dropout((float) config.embdPdrop()));
        List<GPT2Block> list = new ArrayList<>();
        for (int i = 0; i < config.nLayer(); i++) {
            list.add(new GPT2Block(manager, config, i));
        }
        blocks = addChild("h", new ModuleList<>(list));
        addChild("ln_f", new LayerNorm(manager, config.nEmbd(), (float) config.layerNormEps()));
    }

    public Embedding wte() {
        return (Embedding) child("wte");
    }

    /** As {@link org.peft4j.models.core.CausalLm#forward}, returning (B, T, H) after ln_f. */
    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache) {
        long t = inputIds.getShape().get(1);
        long past = cache == null ? 0 : cache.length();
        if (past + t > config.nPositions()) {
            throw new IllegalArgumentException("sequence length " + (past + t) + " exceeds n_positions = "
                    + config.nPositions() + "; truncate the input (data maxLength)");
        }
        NDManager m = inputIds.getManager();
        NDArray positions = positionIds != null ? positionIds : Masks.positions(m, attentionMask, past, t);
        NDArray x = wte().forward(inputIds)                                              // (B, T, H)
                .add(((Embedding) child("wpe")).forward(positions));                     // + (B|1, T, H)
        x = ((Dropout) child("drop")).forward(x);
        AttentionContext ctx = new AttentionContext(Masks.causal(m, attentionMask, past, t, 0, DataType.FLOAT32),
                null, null, null, cache);                                                // mask: (B|1, 1, T, S)
        x = LayerStack.forward(blocks, x, wte().trainableParameterCount() + child("wpe").trainableParameterCount() > 0,
                cache != null, (block, h) -> block.forward(h, ctx));
        return ((LayerNorm) child("ln_f")).forward(x);
    }
}
