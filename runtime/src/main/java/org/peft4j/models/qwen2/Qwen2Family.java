package org.peft4j.models.qwen2;

import org.peft4j.models.core.ConfigFields;
import org.peft4j.models.core.DecoderConfig;
import org.peft4j.models.core.DecoderFamily;
import org.peft4j.models.core.LayerType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Qwen2 (and Qwen2.5): Llama's layout with biases on q_proj, k_proj and v_proj. Its sliding window
 * is read as Transformers' Qwen2Config does: with use_sliding_window, layers from max_window_layers
 * on attend within sliding_window; an explicit layer_types decides per layer instead.
 */
public final class Qwen2Family extends DecoderFamily {

    public static final Qwen2Family INSTANCE = new Qwen2Family();

    private Qwen2Family() {
    }

    @Override
    public String name() {
        return "qwen2";
    }

    @Override
    public List<String> modelTypes() {
        return List.of("qwen2");
    }

    @Override
    public DecoderConfig readConfig(Path configFile) throws IOException {
        ConfigFields f = ConfigFields.read(configFile, "Qwen2");
        requireModelType(f);
        DecoderConfig config = DecoderConfig.read(f, "qwen2", 32768);
        boolean use = f.bool("use_sliding_window", false);
        int window = !use ? 0 : f.has("sliding_window") ? f.integer("sliding_window", null)
                : f.root().has("sliding_window") ? 0 : 4096;
        int maxWindowLayers = f.integer("max_window_layers", 28);
        List<String> names = f.strings("layer_types");
        List<LayerType> types = new ArrayList<>();
        int layers = config == null ? 0 : config.numHiddenLayers();
        for (int i = 0; i < layers; i++) {
            String name = names == null ? null : i < names.size() ? names.get(i) : "(missing)";
            LayerType type = name == null ? (window > 0 && i >= maxWindowLayers ? LayerType.SLIDING_ATTENTION
                    : LayerType.FULL_ATTENTION) : LayerType.named(name);
            if (type == null) {
                f.problem("layer_types[" + i + "] = '" + name + "' is not supported; valid: '"
                        + String.join("', '", LayerType.names()) + "'");
            }
            types.add(type);
        }
        if (names != null && names.size() != layers && config != null) {
            f.problem("layer_types has " + names.size() + " entries for num_hidden_layers = " + layers);
        }
        if (window <= 0 && types.contains(LayerType.SLIDING_ATTENTION)) {
            f.problem("layer_types has sliding_attention layers but use_sliding_window = " + use + " and sliding_window = "
                    + f.root().get("sliding_window") + "; Transformers has no window for them: set use_sliding_window"
                    + " and sliding_window, or make them full_attention");
        }
        f.throwIfAny(List.of());
        return config.withBiases(true, false, false).withSlidingWindow(window, types);
    }
}
