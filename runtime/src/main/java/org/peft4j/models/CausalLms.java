package org.peft4j.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.peft4j.models.gpt2.GPT2LMHeadModel;
import org.peft4j.models.llama.LlamaForCausalLM;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Loads whichever decoder a Hugging Face directory holds, chosen by its {@code config.json} model_type. */
public final class CausalLms {

    /** The model_type values of the Llama loader; they share one architecture up to biases. */
    public static final List<String> LLAMA_TYPES = List.of("llama", "mistral", "qwen2");
    public static final String GPT2_TYPE = "gpt2";

    private CausalLms() {
    }

    /**
     * @throws IllegalArgumentException when model_type is missing or names no decoder peft4j loads,
     *                                  so callers can report it as the user's mistake
     */
    public static CausalLm fromPretrained(Path dir) throws IOException {
        String type = modelType(dir);
        if (GPT2_TYPE.equals(type)) {
            return GPT2LMHeadModel.fromPretrained(dir);
        }
        if (LLAMA_TYPES.contains(type)) {
            return LlamaForCausalLM.fromPretrained(dir);
        }
        throw new IllegalArgumentException(dir.resolve("config.json") + ": model_type = "
                + (type == null ? "(missing)" : "'" + type + "'") + " is not a causal language model peft4j loads;"
                + " valid: " + String.join(", ", LLAMA_TYPES) + ", " + GPT2_TYPE);
    }

    /**
     * A Llama-family decoder in the shape of {@code dir}'s config.json with random weights
     * ({@link RandomInit}), for training from scratch; the directory needs no weights.
     *
     * @throws IllegalArgumentException when model_type is not of the Llama family
     */
    public static CausalLm randomInit(Path dir, long seed) throws IOException {
        String type = modelType(dir);
        if (!LLAMA_TYPES.contains(type)) {
            throw new IllegalArgumentException(dir.resolve("config.json") + ": model_type = "
                    + (type == null ? "(missing)" : "'" + type + "'") + " cannot start from random weights here;"
                    + " init 'random' builds: " + String.join(", ", LLAMA_TYPES));
        }
        Path config = dir.resolve("config.json");
        LlamaForCausalLM lm = new LlamaForCausalLM(org.peft4j.tensor.Backend.get().manager(),
                org.peft4j.models.llama.LlamaConfig.read(config));
        JsonNode range = new ObjectMapper().readTree(Files.readString(config)).path("initializer_range");
        org.peft4j.tensor.Backend.get().seed(seed);
        RandomInit.apply(lm, range.isNumber() ? range.asDouble() : RandomInit.DEFAULT_STD,
                org.peft4j.tensor.Backend.get().manager());
        return lm;
    }

    /** config.json's model_type, or null when it has none. */
    public static String modelType(Path dir) throws IOException {
        Path config = WeightLoader.requireFile(dir, "config.json", "the model configuration");
        JsonNode type = new ObjectMapper().readTree(Files.readString(config)).path("model_type");
        return type.isTextual() ? type.textValue() : null;
    }
}
