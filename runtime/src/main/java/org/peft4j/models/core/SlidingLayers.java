package org.peft4j.models.core;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Reads which layers attend within a sliding window: {@code layer_types} when the config gives it,
 * else the family's rule, and the window W of configs that switch it on with
 * {@code use_sliding_window} (Qwen2, Qwen3, SmolLM3). Problems are collected in the {@link ConfigFields}.
 */
public final class SlidingLayers {

    private SlidingLayers() {
    }

    /**
     * The sliding layers of a config in Qwen2's manner (Qwen2, Qwen3): with use_sliding_window, layers
     * from max_window_layers (28 by default) on attend within sliding_window (4096 by default);
     * layer_types, when given, decides instead.
     *
     * @param window W, or 0 when no layer slides
     * @param types  each layer's attention
     */
    public record Layers(int window, List<LayerType> types) {

        public static Layers fromMaxWindowLayers(ConfigFields f, int layers) {
            int window = optInWindow(f, 4096);
            int maxWindowLayers = f.integer("max_window_layers", 28);
            List<LayerType> types = read(f, layers, i -> window > 0 && i >= maxWindowLayers);
            requireOptInWindow(f, types, window);
            return new Layers(window, types);
        }
    }

    /**
     * W as Transformers' Qwen2, Qwen3 and SmolLM3 configs set it: sliding_window when
     * use_sliding_window is true, else 0 (they null it); {@code fallback} when the field is absent,
     * 0 when it is null.
     */
    public static int optInWindow(ConfigFields f, int fallback) {
        boolean use = f.bool("use_sliding_window", false);
        return !use ? 0 : f.has("sliding_window") ? f.integer("sliding_window", null)
                : f.root().has("sliding_window") ? 0 : fallback;
    }

    /**
     * Each layer's attention: layer_types when given (one known name per layer), else
     * {@code slidingByDefault} of each index.
     *
     * @param layers num_hidden_layers, or 0 when it could not be read (nothing then is checked)
     */
    public static List<LayerType> read(ConfigFields f, int layers, IntPredicate slidingByDefault) {
        List<String> names = f.strings("layer_types");
        List<LayerType> types = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            String name = names == null ? null : i < names.size() ? names.get(i) : "(missing)";
            LayerType type = name == null ? (slidingByDefault.test(i) ? LayerType.SLIDING_ATTENTION
                    : LayerType.FULL_ATTENTION) : LayerType.named(name);
            if (type == null) {
                f.problem("layer_types[" + i + "] = '" + name + "' is not supported; valid: '"
                        + String.join("', '", LayerType.names()) + "'");
            }
            types.add(type);
        }
        if (names != null && names.size() != layers && layers > 0) {
            f.problem("layer_types has " + names.size() + " entries for num_hidden_layers = " + layers);
        }
        return types;
    }

    /** A problem unless sliding layers, when there are any, have the window of {@link #optInWindow}. */
    public static void requireOptInWindow(ConfigFields f, List<LayerType> types, int window) {
        if (window <= 0 && types.contains(LayerType.SLIDING_ATTENTION)) {
            // read raw: optInWindow has reported a mistyped use_sliding_window already
            boolean use = f.root().path("use_sliding_window").asBoolean(false);
            f.problem("layer_types has sliding_attention layers but use_sliding_window = " + use
                    + " and sliding_window = " + f.root().get("sliding_window")
                    + "; Transformers has no window for them: set use_sliding_window and sliding_window, or make them"
                    + " full_attention");
        }
    }
}
