package org.peft4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Built-in chat templates, written out as the Jinja templates that ship with the models do, and
 * rendered as segments so that only the assistant's answers (with their end-of-turn token) are
 * learned while the prompt, the role headers and the other turns are only read.
 */
public enum ChatTemplate {

    /**
     * ChatML (Qwen2 and many fine-tunes):
     * {@code <|im_start|>role\ncontent<|im_end|>\n} per message; the prompt for an answer is
     * {@code <|im_start|>assistant\n}.
     */
    CHATML("<|im_end|>") {
        @Override
        void render(List<PromptSegment> out, List<ChatMessage> messages) {
            for (ChatMessage m : messages) {
                add(out, "<|im_start|>" + m.role() + "\n", false);
                if (m.isAssistant()) {
                    add(out, m.content() + "<|im_end|>", true);
                    add(out, "\n", false);
                } else {
                    add(out, m.content() + "<|im_end|>\n", false);
                }
            }
        }

        @Override
        String generationPrompt() {
            return "<|im_start|>assistant\n";
        }
    },

    /**
     * Llama 3 Instruct: {@code <|begin_of_text|>} once, then
     * {@code <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>} per message, content
     * trimmed as the official template does.
     */
    LLAMA3("<|eot_id|>") {
        @Override
        void render(List<PromptSegment> out, List<ChatMessage> messages) {
            add(out, "<|begin_of_text|>", false);
            for (ChatMessage m : messages) {
                add(out, "<|start_header_id|>" + m.role() + "<|end_header_id|>\n\n", false);
                add(out, m.content().strip() + "<|eot_id|>", m.isAssistant());
            }
        }

        @Override
        String generationPrompt() {
            return "<|start_header_id|>assistant<|end_header_id|>\n\n";
        }
    };

    private final String endOfTurn;

    ChatTemplate(String endOfTurn) {
        this.endOfTurn = endOfTurn;
    }

    /** The special token that closes a turn; generation stops on it. */
    public String endOfTurn() {
        return endOfTurn;
    }

    abstract void render(List<PromptSegment> out, List<ChatMessage> messages);

    abstract String generationPrompt();

    /**
     * The conversation as segments; neighbouring segments of the same kind are merged.
     *
     * @param addGenerationPrompt append the header that asks the model for the next answer
     */
    public List<PromptSegment> render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<PromptSegment> out = new ArrayList<>();
        render(out, messages);
        if (addGenerationPrompt) {
            add(out, generationPrompt(), false);
        }
        return out;
    }

    /** The whole conversation as one string, as the model reads it. */
    public String renderText(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        render(messages, addGenerationPrompt).forEach(s -> sb.append(s.text()));
        return sb.toString();
    }

    private static void add(List<PromptSegment> out, String text, boolean learned) {
        if (text.isEmpty()) {
            return;
        }
        int last = out.size() - 1;
        if (last >= 0 && out.get(last).learned() == learned) {
            out.set(last, new PromptSegment(out.get(last).text() + text, learned));
        } else {
            out.add(new PromptSegment(text, learned));
        }
    }

    /**
     * A model directory's own Jinja chat template, as Transformers 5 reads it: {@code chat_template.jinja}
     * (where Transformers 5 saves it), which takes priority, else {@code tokenizer_config.json}'s
     * {@code chat_template} (a string, or in a list of named templates the one named "default"); null
     * when the directory has none.
     */
    public static String ownJinja(Path modelDir) throws IOException {
        Path file = modelDir.resolve("chat_template.jinja");
        if (Files.isRegularFile(file)) {
            return Files.readString(file);
        }
        Path tc = modelDir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(tc)) {
            return null;
        }
        JsonNode template;
        try {
            template = new ObjectMapper().readTree(tc.toFile()).path("chat_template");
        } catch (IOException e) {
            throw new IOException(tc + " is not valid JSON: " + e.getMessage(), e);
        }
        if (template.isTextual()) {
            return template.textValue();
        }
        for (JsonNode named : template) {
            if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
                return named.path("template").textValue();
            }
        }
        return null;
    }

    /**
     * The built-in template a model's own Jinja chat template ({@link #ownJinja}) writes, recognised
     * by its markers; null when it is none of them.
     */
    public static ChatTemplate recognise(String jinja) {
        if (jinja == null) {
            return null;
        }
        if (jinja.contains("<|im_start|>") && jinja.contains("<|im_end|>")) {
            return CHATML;
        }
        if (jinja.contains("<|start_header_id|>") && jinja.contains("<|eot_id|>")) {
            return LLAMA3;
        }
        return null;
    }

    /** The template by its recipe name ({@code chatml}, {@code llama3}); the error lists the valid names. */
    public static ChatTemplate named(String name) {
        for (ChatTemplate t : values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown chat template '" + name + "'; valid: chatml, llama3");
    }
}
