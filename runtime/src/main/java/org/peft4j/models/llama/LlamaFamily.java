package org.peft4j.models.llama;

import org.peft4j.models.core.ConfigFields;
import org.peft4j.models.core.DecoderConfig;
import org.peft4j.models.core.DecoderFamily;
import org.peft4j.models.core.LayerType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

/**
 * Llama (1 to 3.x) and Mistral. Llama puts biases where attention_bias and mlp_bias say; Mistral has
 * none and attends within its sliding_window in every layer (4096 when the config does not name one,
 * as Transformers' MistralConfig; null for full attention).
 */
public final class LlamaFamily extends DecoderFamily {

    public static final LlamaFamily INSTANCE = new LlamaFamily();

    private LlamaFamily() {
    }

    @Override
    public String name() {
        return "llama";
    }

    @Override
    public List<String> modelTypes() {
        return List.of("llama", "mistral");
    }

    @Override
    public DecoderConfig readConfig(Path configFile) throws IOException {
        ConfigFields f = ConfigFields.read(configFile, "Llama");
        requireModelType(f);
        boolean mistral = "mistral".equals(f.string("model_type", null));
        DecoderConfig config = DecoderConfig.read(f, "llama", mistral ? 4096 * 32 : 2048);
        boolean attentionBias = f.bool("attention_bias", false);
        boolean mlpBias = f.bool("mlp_bias", false);
        int window = !mistral ? 0 : f.has("sliding_window") ? f.integer("sliding_window", null)
                : f.root().has("sliding_window") ? 0 : 4096;
        if (window < 0) {
            f.problem("sliding_window = " + window + " must be > 0, or null for full attention");
        }
        f.throwIfAny(List.of());
        if (mistral) {
            return window == 0 ? config : config.withSlidingWindow(window,
                    Collections.nCopies(config.numHiddenLayers(), LayerType.SLIDING_ATTENTION));
        }
        return config.withBiases(attentionBias, attentionBias, mlpBias);
    }
}
