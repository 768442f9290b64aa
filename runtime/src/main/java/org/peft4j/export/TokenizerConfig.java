package org.peft4j.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The {@code tokenizer_config.json} of a merged directory: the base's, completed where it says
 * nothing (peft4j's embedded MiniLM has only {@code tokenizer.json}), so that {@code AutoTokenizer}
 * knows the longest input ({@code model_max_length}, from the model's positions) and the special
 * tokens, named from the tokenizer's own special added tokens. What the base says is kept.
 */
final class TokenizerConfig {

    /** Special-token spellings of the BERT, RoBERTa and GPT-2 vocabularies, by the roles they play. */
    private static final Map<String, List<String>> ROLES = Map.of(
            "[CLS]", List.of("cls_token"), "[SEP]", List.of("sep_token"), "[PAD]", List.of("pad_token"),
            "[UNK]", List.of("unk_token"), "[MASK]", List.of("mask_token"),
            "<s>", List.of("bos_token", "cls_token"), "</s>", List.of("eos_token", "sep_token"),
            "<pad>", List.of("pad_token"), "<unk>", List.of("unk_token"), "<mask>", List.of("mask_token"));

    private TokenizerConfig() {
    }

    static ObjectNode of(ObjectNode base, Path tokenizerJson, ObjectNode modelConfig, ObjectMapper json) throws IOException {
        ObjectNode out = base == null ? json.createObjectNode() : base.deepCopy();
        JsonNode tokenizer = json.readTree(tokenizerJson.toFile());
        for (JsonNode t : tokenizer.path("added_tokens")) {
            if (t.path("special").asBoolean(false)) {
                ROLES.getOrDefault(t.path("content").asText(), List.of()).forEach(role -> {
                    if (!out.has(role)) {
                        out.put(role, t.path("content").asText());
                    }
                });
            }
        }
        int positions = modelConfig.path("max_position_embeddings").asInt(modelConfig.path("n_positions").asInt(0));
        // Transformers writes 1e30 (VERY_LARGE_INTEGER) when it knew no limit: as good as none
        boolean limitless = !out.has("model_max_length") || out.get("model_max_length").asDouble() >= 1e15;
        if (positions > 0 && limitless) {
            // RoBERTa's positions start after the padding id, so two of them never hold a token
            boolean roberta = modelConfig.path("model_type").asText("").contains("roberta");
            out.put("model_max_length", roberta ? positions - modelConfig.path("pad_token_id").asInt(1) - 1 : positions);
        }
        String type = modelConfig.path("model_type").asText("");
        if (base == null && type.equals("bert")) {
            out.put("do_lower_case", lowercases(tokenizer));
        }
        return out;
    }

    /** Whether the tokenizer's normalizer lowercases (BERT uncased vocabularies do). */
    private static boolean lowercases(JsonNode tokenizer) {
        JsonNode n = tokenizer.path("normalizer");
        return n.path("lowercase").asBoolean(false) || n.toString().contains("\"Lowercase\"");
    }
}
