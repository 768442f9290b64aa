package org.peft4j.models.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.peft4j.config.ConfigException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed access to a Hugging Face {@code config.json}, collecting missing or mistyped fields
 * instead of failing on the first, so a config error lists every problem at once.
 */
public final class ConfigFields {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final JsonNode root;
    private final String family;
    private final List<String> problems = new ArrayList<>();

    private ConfigFields(Path file, JsonNode root, String family) {
        this.file = file;
        this.root = root;
        this.family = family;
    }

    /** Reads the file; {@code family} names the model family in messages ("a Llama config.json must give it"). */
    public static ConfigFields read(Path file, String family) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null,
                    "no config.json: a Hugging Face model directory holds config.json next to its weights");
        } catch (IOException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": expected a JSON object");
        }
        return new ConfigFields(file, root, family);
    }

    public JsonNode root() {
        return root;
    }

    public void problem(String message) {
        problems.add(message);
    }

    public boolean has(String name) {
        return has(root, name);
    }

    /** Whether {@code node} gives {@code name} a value other than null. */
    public boolean has(JsonNode node, String name) {
        JsonNode n = node.get(name);
        return n != null && !n.isNull();
    }

    /** A required integer when {@code fallback} is null. */
    public int integer(String name, Integer fallback) {
        return integer(root, name, fallback);
    }

    public int integer(JsonNode node, String name, Integer fallback) {
        JsonNode n = node.get(name);
        if (n == null || n.isNull()) {
            if (fallback == null) {
                problems.add(name + " is missing; a " + family + " config.json must give it");
                return 0;
            }
            return fallback;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            problems.add(name + " = " + n + " must be an integer");
            return 0;
        }
        return n.intValue();
    }

    /** A required number when {@code fallback} is null. */
    public double number(String name, Double fallback) {
        return number(root, name, fallback);
    }

    public double number(JsonNode node, String name, Double fallback) {
        JsonNode n = node.get(name);
        if (n == null || n.isNull()) {
            if (fallback == null) {
                problems.add(name + " is missing; a " + family + " config.json must give it");
                return 0;
            }
            return fallback;
        }
        if (!n.isNumber()) {
            problems.add(name + " = " + n + " must be a number");
            return fallback == null ? 0 : fallback;
        }
        return n.doubleValue();
    }

    public boolean bool(String name, boolean fallback) {
        return bool(root, name, fallback);
    }

    public boolean bool(JsonNode node, String name, boolean fallback) {
        JsonNode n = node.get(name);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isBoolean()) {
            problems.add(name + " = " + n + " must be true or false");
            return fallback;
        }
        return n.booleanValue();
    }

    public String string(String name, String fallback) {
        return string(root, name, fallback);
    }

    public String string(JsonNode node, String name, String fallback) {
        JsonNode n = node.get(name);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isTextual()) {
            problems.add(name + " = " + n + " must be a string");
            return fallback;
        }
        return n.textValue();
    }

    /** A number or a list of numbers (as {@code eos_token_id}), as a list; empty when absent. */
    public List<Integer> integers(String name) {
        JsonNode n = root.get(name);
        List<Integer> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (n.isIntegralNumber() && n.canConvertToInt()) {
            out.add(n.intValue());
            return out;
        }
        if (n.isArray()) {
            for (JsonNode e : n) {
                if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                    problems.add(name + " = " + n + " must be an integer or a list of integers");
                    return List.of();
                }
                out.add(e.intValue());
            }
            return out;
        }
        problems.add(name + " = " + n + " must be an integer or a list of integers");
        return out;
    }

    /** A list of strings (as {@code layer_types}), or null when absent. */
    public List<String> strings(String name) {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return null;
        }
        List<String> out = new ArrayList<>();
        if (n.isArray()) {
            for (JsonNode e : n) {
                if (!e.isTextual()) {
                    break;
                }
                out.add(e.textValue());
            }
            if (out.size() == n.size()) {
                return out;
            }
        }
        problems.add(name + " = " + n + " must be a list of strings");
        return null;
    }

    public Path file() {
        return file;
    }

    /** Throws one {@link ConfigException} naming the file for every problem collected, plus {@code more}. */
    public void throwIfAny(List<String> more) {
        List<String> all = new ArrayList<>(problems);
        all.addAll(more);
        if (!all.isEmpty()) {
            throw new ConfigException(all.stream().map(p -> file + ": " + p).toList());
        }
    }

    public boolean hasProblems() {
        return !problems.isEmpty();
    }

    /** How many problems were collected so far (a reader compares it before and after its own fields). */
    public int problemCount() {
        return problems.size();
    }
}
