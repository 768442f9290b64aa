package org.peft4j.io.onnx;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A sentence encoder's pooling, in sentence-transformers' layout beside the Hugging Face files:
 * {@code modules.json} (Transformer, Pooling, Normalize) and {@code 1_Pooling/config.json}.
 */
public final class SentencePooling {

    /** The pooling modes written, by their peft4j names. */
    public static final List<String> MODES = List.of("mean", "cls");

    private SentencePooling() {
    }

    /**
     * Writes the files into {@code dir}.
     *
     * @param pooling "mean" or "cls"
     * @param width   the token states' width (word_embedding_dimension)
     */
    static void write(Path dir, String pooling, int width, ObjectMapper json) throws IOException {
        if (!MODES.contains(pooling)) {
            throw new IllegalArgumentException("pooling '" + pooling + "' is not one of " + MODES);
        }
        ArrayNode modules = json.createArrayNode();
        module(modules, 0, "", "sentence_transformers.models.Transformer");
        module(modules, 1, "1_Pooling", "sentence_transformers.models.Pooling");
        module(modules, 2, "2_Normalize", "sentence_transformers.models.Normalize");
        Files.writeString(dir.resolve("modules.json"), json.writeValueAsString(modules));
        ObjectNode config = json.createObjectNode();
        config.put("word_embedding_dimension", width);
        config.put("pooling_mode_cls_token", pooling.equals("cls"));
        config.put("pooling_mode_mean_tokens", pooling.equals("mean"));
        config.put("pooling_mode_max_tokens", false);
        config.put("pooling_mode_mean_sqrt_len_tokens", false);
        Files.createDirectories(dir.resolve("1_Pooling"));
        Files.writeString(dir.resolve("1_Pooling").resolve("config.json"), json.writeValueAsString(config));
        Files.createDirectories(dir.resolve("2_Normalize"));
    }

    private static void module(ArrayNode modules, int idx, String path, String type) {
        ObjectNode m = modules.addObject();
        m.put("idx", idx);
        m.put("name", String.valueOf(idx));
        m.put("path", path);
        m.put("type", type);
    }
}
