package org.peft4j.models.qwen3;

import org.peft4j.models.core.Activation;
import org.peft4j.models.core.ConfigFields;
import org.peft4j.models.core.DecoderConfig;
import org.peft4j.models.core.DecoderFamily;
import org.peft4j.models.core.DecoderOptions;
import org.peft4j.models.core.RopeParameters;
import org.peft4j.models.core.SlidingLayers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Qwen 3 (dense): Llama's layout with per-head RMSNorms {@code q_norm} and {@code k_norm} on queries
 * and keys before the rotation, biases on all four attention projections when attention_bias says
 * so (none in the released models), and head_dim independent of hidden_size (128 when the config
 * omits it, as Transformers' Qwen3Config). The sliding window follows Qwen2's rule: with
 * use_sliding_window, layers from max_window_layers on attend within sliding_window; an explicit
 * layer_types decides per layer instead.
 */
public final class Qwen3Family extends DecoderFamily {

    public static final Qwen3Family INSTANCE = new Qwen3Family();

    private Qwen3Family() {
    }

    @Override
    public String name() {
        return "qwen3";
    }

    @Override
    public List<String> modelTypes() {
        return List.of("qwen3");
    }

    @Override
    public DecoderConfig readConfig(Path configFile) throws IOException {
        ConfigFields f = ConfigFields.read(configFile, "Qwen3");
        requireModelType(f);
        DecoderConfig config = DecoderConfig.read(f, "qwen3", 32768, 128, "hidden_act", Activation.SILU,
                RopeParameters::read);
        boolean bias = f.bool("attention_bias", false);
        SlidingLayers.Layers sliding = SlidingLayers.Layers.fromMaxWindowLayers(f,
                config == null ? 0 : config.numHiddenLayers());
        f.throwIfAny(List.of());
        return config.withBiases(bias, bias, false).withSlidingWindow(sliding.window(), sliding.types())
                .withOptions(DecoderOptions.LLAMA.withQkNorm());
    }
}
