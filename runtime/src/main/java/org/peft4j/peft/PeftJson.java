package org.peft4j.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The parts of {@code adapter_config.json} every method shares: the targets and their filters,
 * and the fields peft4j does not use. Those are sorted by what they do to the numbers: a field
 * that changes the adapter's math (aLoRA's invocation tokens, a bias on B, layer replication, ...)
 * is refused by name unless it holds its do-nothing default; one that only shapes training or
 * bookkeeping, and any field newer than this list, is accepted and reported once.
 */
public final class PeftJson {

    /** PEFT's shorthand for every linear layer but the output head. */
    public static final String ALL_LINEAR = "all-linear";

    /** Written by PeftModel about the file itself; nothing to use or report. */
    private static final Set<String> METADATA = Set.of("peft_type", "task_type", "base_model_name_or_path",
            "revision", "inference_mode", "auto_mapping", "peft_version", "runtime_config");

    /** LoraConfig fields that change what the adapter computes, with the value that changes nothing. */
    private static final Map<String, Predicate<JsonNode>> MATH = Map.ofEntries(
            Map.entry("lora_bias", v -> v.isBoolean() && !v.asBoolean()),
            Map.entry("layer_replication", JsonNode::isNull),
            Map.entry("target_parameters", v -> v.isNull() || (v.isArray() && v.isEmpty())),
            Map.entry("trainable_token_indices", JsonNode::isNull),
            Map.entry("use_qalora", v -> v.isBoolean() && !v.asBoolean()),
            Map.entry("alora_invocation_tokens", JsonNode::isNull),
            Map.entry("use_bdlora", JsonNode::isNull),
            Map.entry("arrow_config", JsonNode::isNull),
            Map.entry("kasa_config", JsonNode::isNull),
            Map.entry("monteclora_config", JsonNode::isNull));

    /**
     * LoraConfig fields that shape training, initialisation or the parallel layout, never the
     * loaded adapter's outputs, with their defaults; reported when they hold something else.
     */
    private static final Map<String, Predicate<JsonNode>> TRAINING_ONLY = Map.ofEntries(
            Map.entry("megatron_config", JsonNode::isNull),
            Map.entry("megatron_core", v -> v.isNull() || "megatron.core".equals(v.asText())),
            Map.entry("loftq_config", v -> v.isNull() || (v.isObject() && v.isEmpty())),
            Map.entry("eva_config", JsonNode::isNull),
            Map.entry("corda_config", JsonNode::isNull),
            Map.entry("lora_ga_config", JsonNode::isNull),
            Map.entry("velora_config", JsonNode::isNull),
            Map.entry("qalora_group_size", v -> true),
            Map.entry("ensure_weight_tying", v -> v.isBoolean() && !v.asBoolean()));

    private PeftJson() {
    }

    /**
     * {@code target_modules} (a list of names, one regex, or {@code "all-linear"}),
     * {@code exclude_modules} (names or a regex), {@code layers_to_transform} and {@code layers_pattern}.
     */
    public static TargetSpec readTargeting(JsonNode n) {
        List<String> names = List.of();
        String regex = null;
        boolean allLinear = false;
        JsonNode t = n.get("target_modules");
        if (t != null && t.isTextual() && t.asText().equals(ALL_LINEAR)) {
            allLinear = true;
        } else if (t != null && t.isTextual()) {
            regex = t.asText();
        } else if (t != null && t.isArray()) {
            names = strings(t);
        }
        List<String> exclude = List.of();
        String excludeRegex = null;
        JsonNode ex = n.get("exclude_modules");
        if (ex != null && ex.isTextual()) {
            excludeRegex = ex.asText();
        } else if (ex != null && ex.isArray()) {
            exclude = strings(ex);
        }
        List<Integer> layers = new ArrayList<>();
        JsonNode l = n.get("layers_to_transform");
        if (l != null && l.isInt()) {
            layers.add(l.asInt());
        } else if (l != null && l.isArray()) {
            l.forEach(x -> layers.add(x.asInt()));
        }
        List<String> patterns = List.of();
        JsonNode lp = n.get("layers_pattern");
        if (lp != null && lp.isTextual()) {
            patterns = List.of(lp.asText());
        } else if (lp != null && lp.isArray()) {
            patterns = strings(lp);
        }
        return new TargetSpec(names, regex, allLinear, exclude, excludeRegex, layers, patterns);
    }

    /** The inverse of {@link #readTargeting}, under PEFT's field names. */
    public static void writeTargeting(ObjectNode n, TargetSpec t) {
        if (t.allLinear()) {
            n.put("target_modules", ALL_LINEAR);
        } else {
            putNamesOrRegex(n, "target_modules", t.names(), t.regex());
        }
        if (t.exclude().isEmpty() && t.excludeRegex() == null) {
            n.putNull("exclude_modules");
        } else {
            putNamesOrRegex(n, "exclude_modules", t.exclude(), t.excludeRegex());
        }
        if (t.layersToTransform().isEmpty()) {
            n.putNull("layers_to_transform");
        } else {
            ArrayNode l = n.putArray("layers_to_transform");
            t.layersToTransform().forEach(l::add);
        }
        if (t.layersPattern().isEmpty()) {
            n.putNull("layers_pattern");
        } else {
            ArrayNode l = n.putArray("layers_pattern");
            t.layersPattern().forEach(l::add);
        }
    }

    /**
     * PEFT holds names or one regex; when both are set the names join the regex as PEFT's name
     * rule {@code (.*\.)?name}, so the written file selects the same modules.
     */
    private static void putNamesOrRegex(ObjectNode n, String field, List<String> names, String regex) {
        if (regex == null) {
            ArrayNode a = n.putArray(field);
            names.forEach(a::add);
            return;
        }
        StringBuilder joined = new StringBuilder("(?:" + regex + ")");
        names.forEach(name -> joined.append("|(?:.*\\.)?").append(Pattern.quote(name)));
        n.put(field, names.isEmpty() ? regex : joined.toString());
    }

    /** {@code modules_to_save}, or empty when null. */
    public static List<String> modulesToSave(JsonNode n) {
        JsonNode save = n.get("modules_to_save");
        return save != null && save.isArray() ? strings(save) : List.of();
    }

    /**
     * Sorts the fields the method's reader did not use ({@code used}): a field that changes the
     * math and holds more than its default is added to {@code problems} by name; any other field
     * that holds something (a training-only setting, or a field this list does not know) is added
     * to {@code notes}, all in one line.
     */
    public static void checkUnused(JsonNode n, Set<String> used, List<String> problems, List<String> notes) {
        TreeSet<String> ignored = new TreeSet<>();
        TreeSet<String> unknown = new TreeSet<>();
        n.fieldNames().forEachRemaining(field -> {
            JsonNode v = n.get(field);
            if (used.contains(field) || METADATA.contains(field)) {
                return;
            }
            Predicate<JsonNode> harmless = MATH.get(field);
            if (harmless != null) {
                if (!harmless.test(v)) {
                    problems.add(field + " = " + v + " changes what the adapter computes, and peft4j does not"
                            + " implement it; load this adapter with PEFT, or train one without " + field);
                }
                return;
            }
            Predicate<JsonNode> atDefault = TRAINING_ONLY.get(field);
            if (atDefault == null) {
                unknown.add(field);
            } else if (!atDefault.test(v)) {
                ignored.add(field);
            }
        });
        if (!ignored.isEmpty()) {
            notes.add(ignored + " only shape training or its parallel layout; the loaded adapter does not use them");
        }
        if (!unknown.isEmpty()) {
            notes.add(unknown + " are fields peft4j does not know (a newer PEFT?); they are ignored");
        }
    }

    public static String text(JsonNode n, String field, String dflt) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    public static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(x -> out.add(x.asText()));
        return out;
    }
}
