package org.peft4j.models.smollm3;

import org.peft4j.models.core.Activation;
import org.peft4j.models.core.ConfigFields;
import org.peft4j.models.core.DecoderConfig;
import org.peft4j.models.core.DecoderFamily;
import org.peft4j.models.core.DecoderOptions;
import org.peft4j.models.core.LayerType;
import org.peft4j.models.core.RopeParameters;
import org.peft4j.models.core.SlidingLayers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * SmolLM3: Llama's layout in which some layers attend without rotary positions (NoPE).
 * {@code no_rope_layers[i]} is 1 when layer i <em>uses</em> rotary and 0 when it does not; without
 * the list every no_rope_layer_interval-th layer (4th by default) has none, as Transformers'
 * SmolLM3Config. With use_sliding_window and a sliding_window, the NoPE layers attend within it;
 * layer_types, when given, decides instead. Embeddings are tied unless the config says otherwise.
 * PEFT names no default LoRA targets for smollm3; a recipe without targets gets Llama's q_proj and v_proj.
 */
public final class SmolLm3Family extends DecoderFamily {

    public static final SmolLm3Family INSTANCE = new SmolLm3Family();

    private SmolLm3Family() {
    }

    @Override
    public String name() {
        return "smollm3";
    }

    @Override
    public List<String> modelTypes() {
        return List.of("smollm3");
    }

    @Override
    public DecoderConfig readConfig(Path configFile) throws IOException {
        ConfigFields f = ConfigFields.read(configFile, "SmolLM3");
        requireModelType(f);
        DecoderConfig config = DecoderConfig.read(f, "smollm3", 32768, 0, "hidden_act", Activation.SILU,
                RopeParameters::read);
        boolean tied = f.bool("tie_word_embeddings", true);
        boolean attentionBias = f.bool("attention_bias", false);
        boolean mlpBias = f.bool("mlp_bias", false);
        int layers = config == null ? 0 : config.numHiddenLayers();
        Set<Integer> noRope = noRopeLayers(f, layers);
        int window = SlidingLayers.optInWindow(f, 0);
        List<LayerType> types = SlidingLayers.read(f, layers, i -> window > 0 && noRope.contains(i));
        SlidingLayers.requireOptInWindow(f, types, window);
        f.throwIfAny(List.of());
        return config.withTiedEmbeddings(tied).withBiases(attentionBias, attentionBias, mlpBias)
                .withSlidingWindow(window, types).withOptions(DecoderOptions.LLAMA.withNoRopeLayers(noRope));
    }

    /** The layers without rotary positions: no_rope_layers' zeros, else every interval-th layer. */
    private static Set<Integer> noRopeLayers(ConfigFields f, int layers) {
        Set<Integer> none = new HashSet<>();
        List<Integer> flags = f.integers("no_rope_layers");
        if (!f.has("no_rope_layers")) {
            int interval = f.integer("no_rope_layer_interval", 4);
            if (interval <= 0) {
                f.problem("no_rope_layer_interval = " + interval + " must be > 0");
                return none;
            }
            for (int i = 0; i < layers; i++) {
                if ((i + 1) % interval == 0) {
                    none.add(i);
                }
            }
            return none;
        }
        if (layers > 0 && flags.size() != layers) {
            f.problem("no_rope_layers has " + flags.size() + " entries for num_hidden_layers = " + layers
                    + "; give one per layer (1: the layer uses rotary positions, 0: it does not)");
        }
        List<Integer> bad = new ArrayList<>();
        for (int i = 0; i < flags.size(); i++) {
            if (flags.get(i) == 0) {
                none.add(i);
            } else if (flags.get(i) != 1) {
                bad.add(i);
            }
        }
        if (!bad.isEmpty()) {
            f.problem("no_rope_layers = " + flags + " has values other than 0 and 1 at " + bad
                    + "; valid: 1 (the layer uses rotary positions) or 0 (it does not)");
        }
        return none;
    }
}
