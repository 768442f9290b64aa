package org.peft4j.models.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * sentence-transformers' files beside a Hugging Face model: {@code modules.json} lists the modules
 * run in order (the Transformer in the directory itself, then {@code 1_Pooling}, ...). peft4j reads
 * the pooling a sentence encoder was trained with, and writes and reads a mean-pooled classifier as
 * Transformer → Pooling (mean) → Dense with the identity activation ({@code 2_Dense}: the classifier's
 * weight and bias as {@code linear.weight}, {@code linear.bias}), so that
 * {@code SentenceTransformer(dir).encode(texts)} returns its logits.
 *
 * <p>Module types are written under their {@code sentence_transformers.models.*} names, which every
 * sentence-transformers release from 2 to 6 loads.
 */
public final class SentenceTransformersLayout {

    public static final String MODULES = "modules.json";
    public static final String POOLING_DIR = "1_Pooling";
    public static final String DENSE_DIR = "2_Dense";
    /** The Dense layer's tensors, as the classifier's names. */
    public static final Map<String, String> DENSE_AS_CLASSIFIER = Map.of("linear.weight", "classifier.weight",
            "linear.bias", "classifier.bias");
    private static final String IDENTITY = "torch.nn.modules.linear.Identity";
    private static final ObjectMapper JSON = new ObjectMapper();

    private SentenceTransformersLayout() {
    }

    /**
     * The pooling recorded in {@code dir} ("mean", "cls", "max", ...), or null when the directory is
     * not a sentence-transformers model or records none. Reads both the 2.x–4.x keys
     * ({@code pooling_mode_mean_tokens: true}) and 5.x's {@code pooling_mode}.
     */
    public static String pooling(Path dir) throws IOException {
        Path pooling = moduleDir(dir, "Pooling");
        if (pooling == null || !Files.isRegularFile(pooling.resolve("config.json"))) {
            return null;
        }
        JsonNode c = read(pooling.resolve("config.json"));
        if (c.path("pooling_mode").isTextual()) {
            return c.path("pooling_mode").asText();
        }
        for (String mode : List.of("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens",
                "lasttoken")) {
            if (c.path("pooling_mode_" + mode).asBoolean(false)) {
                return switch (mode) {
                    case "cls_token" -> "cls";
                    case "mean_tokens" -> "mean";
                    case "max_tokens" -> "max";
                    case "mean_sqrt_len_tokens" -> "mean_sqrt_len_tokens";
                    case "weightedmean_tokens" -> "weightedmean";
                    default -> "lasttoken";
                };
            }
        }
        return null;
    }

    /**
     * The safetensors file of a classifier written as a Dense module after mean pooling (identity
     * activation, the last module), or null when {@code dir} has none.
     */
    public static Path classifierWeights(Path dir) throws IOException {
        if (!"mean".equals(pooling(dir))) {
            return null;
        }
        JsonNode modules = read(dir.resolve(MODULES));
        JsonNode last = modules.get(modules.size() - 1);
        if (!last.path("type").asText().endsWith("Dense")) {
            return null;
        }
        Path dense = dir.resolve(last.path("path").asText());
        Path config = dense.resolve("config.json");
        Path weights = dense.resolve("model.safetensors");
        if (!Files.isRegularFile(config) || !Files.isRegularFile(weights)
                || !IDENTITY.equals(read(config).path("activation_function").asText())) {
            return null;
        }
        return weights;
    }

    /**
     * Writes the files of a mean-pooled classifier into {@code dir} (modules.json, the pooling and
     * Dense configs); the Dense weights ({@code linear.weight}, {@code linear.bias}) are written by
     * the caller into {@link #DENSE_DIR}{@code /model.safetensors}.
     */
    public static void writeMeanClassifier(Path dir, int hiddenSize, int numLabels, int maxSeqLength)
            throws IOException {
        ObjectMapper json = new ObjectMapper().enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT);
        ArrayNode modules = json.createArrayNode();
        module(modules, 0, "", "sentence_transformers.models.Transformer");
        module(modules, 1, POOLING_DIR, "sentence_transformers.models.Pooling");
        module(modules, 2, DENSE_DIR, "sentence_transformers.models.Dense");
        Files.writeString(dir.resolve(MODULES), json.writeValueAsString(modules) + "\n");
        ObjectNode bert = json.createObjectNode();
        bert.put("max_seq_length", maxSeqLength);
        bert.put("do_lower_case", false);
        Files.writeString(dir.resolve("sentence_bert_config.json"), json.writeValueAsString(bert) + "\n");
        ObjectNode pooling = json.createObjectNode();
        pooling.put("word_embedding_dimension", hiddenSize);
        pooling.put("pooling_mode_cls_token", false);
        pooling.put("pooling_mode_mean_tokens", true);
        pooling.put("pooling_mode_max_tokens", false);
        pooling.put("pooling_mode_mean_sqrt_len_tokens", false);
        writeConfig(dir.resolve(POOLING_DIR), pooling);
        ObjectNode dense = json.createObjectNode();
        dense.put("in_features", hiddenSize);
        dense.put("out_features", numLabels);
        dense.put("bias", true);
        dense.put("activation_function", IDENTITY);
        writeConfig(dir.resolve(DENSE_DIR), dense);
    }

    /**
     * The checkpoint of {@code dir} for {@code task}: under the mean head, with the classifier read from
     * sentence-transformers' Dense layer (a merged export) unless the checkpoint has its own.
     */
    public static CheckpointFiles checkpoint(Path dir, Task<?> task) throws IOException {
        CheckpointFiles weights = CheckpointFiles.open(dir);
        Path dense = task.head() == ClassifierHead.MEAN ? classifierWeights(dir) : null;
        boolean own = weights.entries().containsKey("classifier.weight");
        return dense == null || own ? weights : weights.with(dense, DENSE_AS_CLASSIFIER);
    }

    /** A module's {@code config.json} in its own folder {@code moduleDir}. */
    private static void writeConfig(Path moduleDir, ObjectNode config) throws IOException {
        Files.createDirectories(moduleDir);
        Files.writeString(moduleDir.resolve("config.json"), config.toPrettyString() + "\n");
    }

    private static void module(ArrayNode modules, int idx, String path, String type) {
        ObjectNode m = modules.addObject();
        m.put("idx", idx);
        m.put("name", String.valueOf(idx));
        m.put("path", path);
        m.put("type", type);
    }

    /** The directory of the first module whose type ends with {@code kind}, or null. */
    private static Path moduleDir(Path dir, String kind) throws IOException {
        Path file = dir.resolve(MODULES);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode modules = read(file);
        for (JsonNode m : modules) {
            if (m.path("type").asText().endsWith(kind)) {
                return dir.resolve(m.path("path").asText());
            }
        }
        return null;
    }

    private static JsonNode read(Path file) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }
}
