package org.peft4j.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What every PEFT adapter directory shares, whatever the method: the two file names, the key
 * prefix of the tensors, how a key names a model path, and the heads PEFT adds to
 * {@code modules_to_save} by task type.
 */
public final class PeftFiles {

    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    /** PeftModel → LoraModel → the wrapped model: the prefix of every key PEFT saves. */
    public static final String PREFIX = "base_model.model.";

    /** Pretty-printed, as PEFT writes its config. */
    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Checkpoint modules peft4j's models do not build, since nothing they output uses them. */
    private static final java.util.Set<String> UNBUILT = java.util.Set.of("pooler");

    private static final System.Logger LOG = System.getLogger(PeftFiles.class.getName());

    private PeftFiles() {
    }

    /** {@code adapter_config.json} of {@code dir}; the error names the file and what an adapter directory holds. */
    public static JsonNode readConfig(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG);
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " does not exist: an adapter directory holds " + CONFIG + " and " + WEIGHTS);
        }
        JsonNode node;
        try {
            node = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new IOException(file + ": expected a JSON object");
        }
        return node;
    }

    /** {@code adapter_model.safetensors} of {@code dir}, which must exist. */
    public static Path weights(Path dir) throws IOException {
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weights)) {
            throw new IOException(weights + " does not exist: an adapter directory holds " + CONFIG + " and " + WEIGHTS);
        }
        return weights;
    }

    /**
     * The method a config names; PEFT always writes {@code peft_type}, and a file without it is
     * read as LoRA.
     *
     * @throws IllegalArgumentException for a method peft4j does not run, naming the valid ones
     */
    public static PeftType peftType(JsonNode config, Path dir) {
        JsonNode type = config.path("peft_type");
        if (type.isMissingNode() || type.isNull() || "LORA".equals(type.asText())) {
            return PeftType.LORA;
        }
        if ("ADALORA".equals(type.asText())) {
            return PeftType.ADALORA;
        }
        throw new IllegalArgumentException(dir.resolve(CONFIG) + ": peft_type = '" + type.asText()
                + "' cannot be merged by peft4j; valid: LORA, ADALORA (the only methods it loads)");
    }

    /**
     * The model path a PEFT key names: the prefix dropped, and the adapter name and
     * modules-to-save wrapper that older PEFT versions left in ({@code lora_A.default.weight},
     * {@code lora_magnitude_vector.default.weight}, {@code classifier.modules_to_save.default.weight})
     * removed. Null when the key lacks PEFT's prefix.
     */
    public static String modelPath(String key) {
        if (!key.startsWith(PREFIX)) {
            return null;
        }
        String p = key.substring(PREFIX.length());
        p = p.replace(".modules_to_save.default.", ".").replace(".modules_to_save.", ".");
        p = p.replace(".lora_A.default.", ".lora_A.").replace(".lora_B.default.", ".lora_B.");
        p = p.replaceAll("\\.lora_magnitude_vector\\.default(\\.weight)?$", ".lora_magnitude_vector");
        p = p.replaceAll("\\.lora_([AEB])\\.default$", ".lora_$1");
        return p;
    }

    /**
     * The heads PEFT's task classes add to {@code modules_to_save} whatever the model calls its
     * head ({@code PeftModelForSequenceClassification} adds both {@code classifier} and
     * {@code score}); a model has one of them, so the others match nothing and are not an error.
     */
    public static List<String> taskHeads(String taskType) {
        if (taskType == null) {
            return List.of();
        }
        return switch (taskType) {
            case "SEQ_CLS", "TOKEN_CLS" -> List.of("classifier", "score");
            case "QUESTION_ANS" -> List.of("qa_outputs");
            default -> List.of();
        };
    }

    /**
     * The module of {@code path} that the model leaves out on purpose, or null: BERT's
     * {@code pooler}, which peft4j's encoders do not compute (they pool the token states
     * themselves), though PEFT's {@code all-linear} adapts its {@code dense}. An adapter's tensors
     * there change nothing the model outputs.
     */
    public static String unbuiltModule(String path, java.util.Set<String> modules) {
        String[] parts = path.split("\\.");
        String prefix = "";
        for (String part : parts) {
            String next = prefix.isEmpty() ? part : prefix + "." + part;
            if (!modules.contains(next)) {
                return UNBUILT.contains(part) ? next : null;
            }
            prefix = next;
        }
        return null;
    }

    /**
     * {@code modules_to_save} without the task heads PEFT added ({@link #taskHeads}) that match no
     * module of the model; a name of the user's own is kept, so that a misspelling still fails.
     */
    public static List<String> presentModulesToSave(List<String> names, String taskType, java.util.Set<String> modules) {
        List<String> heads = taskHeads(taskType);
        return names.stream()
                .filter(n -> !heads.contains(n) || modules.stream().anyMatch(p -> TargetMatcher.matchesName(p, n)))
                .distinct().toList();
    }

    /** Target names without those that lie in a module the model does not build ({@link #unbuiltModule}). */
    public static List<String> builtTargets(List<String> names, java.util.Set<String> modules) {
        return names.stream().filter(n -> unbuiltModule(n, modules) == null
                || modules.stream().anyMatch(p -> TargetMatcher.matchesName(p, n))).toList();
    }

    /** Tells the user, once per load, what the adapter files said that peft4j handles in its own way. */
    public static void report(Path dir, List<String> notes) {
        for (String note : notes) {
            LOG.log(System.Logger.Level.WARNING, dir.resolve(CONFIG) + ": " + note);
        }
    }
}
