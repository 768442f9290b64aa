package org.peft4j.models.qwen2;

import org.peft4j.models.core.ConfigFields;
import org.peft4j.models.core.DecoderConfig;
import org.peft4j.models.core.DecoderFamily;
import org.peft4j.models.core.SlidingLayers;

import java.io.IOException;
import java.nio.file.Path;
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
        SlidingLayers.Layers sliding = SlidingLayers.Layers.fromMaxWindowLayers(f,
                config == null ? 0 : config.numHiddenLayers());
        f.throwIfAny(List.of());
        return config.withBiases(true, false, false).withSlidingWindow(sliding.window(), sliding.types());
    }
}
