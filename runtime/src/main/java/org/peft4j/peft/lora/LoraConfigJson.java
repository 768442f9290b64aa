package org.peft4j.peft.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.config.ConfigException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@link LoraConfig} as PEFT's {@code adapter_config.json}: the same field names and value
 * spellings ({@code use_rslora}, {@code init_lora_weights: true | "gaussian" | "pissa"},
 * {@code target_modules: [...] | "regex" | "all-linear"}, …), so that either side reads the other's.
 */
public final class LoraConfigJson {

    /** PEFT's shorthand for every linear layer but the output head. */
    public static final String ALL_LINEAR = "all-linear";

    private LoraConfigJson() {
    }

    public static ObjectNode write(LoraConfig c, String taskType, String baseModel, ObjectMapper json) {
        ObjectNode n = json.createObjectNode();
        n.put("peft_type", "LORA");
        n.put("task_type", taskType);
        n.put("base_model_name_or_path", baseModel);
        n.put("r", c.r());
        n.put("lora_alpha", c.alpha());
        n.put("lora_dropout", c.dropout());
        if (c.allLinear()) {
            n.put("target_modules", ALL_LINEAR);
        } else {
            putNamesOrRegex(n, "target_modules", c.targets(), c.targetRegex());
        }
        if (c.exclude().isEmpty() && c.excludeRegex() == null) {
            n.putNull("exclude_modules");
        } else {
            putNamesOrRegex(n, "exclude_modules", c.exclude(), c.excludeRegex());
        }
        n.put("bias", c.bias().peftName());
        if (c.modulesToSave().isEmpty()) {
            n.putNull("modules_to_save");
        } else {
            ArrayNode save = n.putArray("modules_to_save");
            c.modulesToSave().forEach(save::add);
        }
        n.put("fan_in_fan_out", c.fanInFanOut());
        switch (c.init()) {
            case GAUSSIAN -> n.put("init_lora_weights", "gaussian");
            case PISSA -> n.put("init_lora_weights", "pissa");
            default -> n.put("init_lora_weights", true);
        }
        n.put("use_rslora", c.rsLora());
        n.put("use_dora", c.useDora());
        ObjectNode rp = n.putObject("rank_pattern");
        c.rankPattern().forEach(rp::put);
        ObjectNode ap = n.putObject("alpha_pattern");
        c.alphaPattern().forEach(ap::put);
        if (c.layersToTransform().isEmpty()) {
            n.putNull("layers_to_transform");
        } else {
            ArrayNode l = n.putArray("layers_to_transform");
            c.layersToTransform().forEach(l::add);
        }
        if (c.layersPattern().isEmpty()) {
            n.putNull("layers_pattern");
        } else {
            ArrayNode l = n.putArray("layers_pattern");
            c.layersPattern().forEach(l::add);
        }
        n.put("inference_mode", true);
        return n;
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

    /** Reads PEFT's fields; every value peft4j cannot honour is reported, together, by field. */
    public static LoraConfig read(JsonNode n) {
        List<String> p = new ArrayList<>();
        String type = text(n, "peft_type", "LORA");
        if (!type.equals("LORA")) {
            p.add("peft_type = '" + type + "': this reader loads LORA adapters only");
        }
        LoraConfigBuilder b = LoraConfig.builder();
        b.r(n.path("r").asInt(8));
        b.alpha(n.path("lora_alpha").asDouble(8));
        b.dropout(n.path("lora_dropout").asDouble(0));
        JsonNode t = n.get("target_modules");
        if (t != null && t.isTextual() && t.asText().equals(ALL_LINEAR)) {
            b.allLinear();
        } else if (t != null && t.isTextual()) {
            b.targetRegex(t.asText());
        } else if (t != null && t.isArray()) {
            b.targets(strings(t));
        }
        JsonNode ex = n.get("exclude_modules");
        if (ex != null && ex.isTextual()) {
            b.excludeRegex(ex.asText());
        } else if (ex != null && ex.isArray()) {
            b.exclude(strings(ex));
        }
        try {
            b.bias(LoraBias.fromPeft(text(n, "bias", "none")));
        } catch (ConfigException e) {
            p.addAll(e.problems());
        }
        JsonNode save = n.get("modules_to_save");
        if (save != null && save.isArray()) {
            b.modulesToSave(strings(save));
        }
        b.fanInFanOut(n.path("fan_in_fan_out").asBoolean(false));
        JsonNode init = n.get("init_lora_weights");
        if (init == null || init.isNull() || (init.isBoolean() && init.asBoolean())) {
            b.init(LoraInit.KAIMING_UNIFORM);
        } else if (init.isTextual() && init.asText().equals("gaussian")) {
            b.init(LoraInit.GAUSSIAN);
        } else if (init.isTextual() && init.asText().equals("pissa")) {
            b.init(LoraInit.PISSA);
        } else {
            p.add("init_lora_weights = " + init + " is not supported; valid: true, \"gaussian\", \"pissa\"");
        }
        b.rsLora(n.path("use_rslora").asBoolean(false));
        b.useDora(n.path("use_dora").asBoolean(false));
        Map<String, Integer> rp = new LinkedHashMap<>();
        n.path("rank_pattern").fields().forEachRemaining(e -> rp.put(e.getKey(), e.getValue().asInt()));
        b.rankPattern(rp);
        Map<String, Double> ap = new LinkedHashMap<>();
        n.path("alpha_pattern").fields().forEachRemaining(e -> ap.put(e.getKey(), e.getValue().asDouble()));
        b.alphaPattern(ap);
        JsonNode layers = n.get("layers_to_transform");
        if (layers != null && layers.isInt()) {
            b.layersToTransform(List.of(layers.asInt()));
        } else if (layers != null && layers.isArray()) {
            List<Integer> l = new ArrayList<>();
            layers.forEach(x -> l.add(x.asInt()));
            b.layersToTransform(l);
        }
        JsonNode lp = n.get("layers_pattern");
        if (lp != null && lp.isTextual()) {
            b.layersPattern(List.of(lp.asText()));
        } else if (lp != null && lp.isArray()) {
            b.layersPattern(strings(lp));
        }
        unsupported(p, n, "lora_bias", v -> v.isBoolean() && !v.asBoolean());
        unsupported(p, n, "layer_replication", JsonNode::isNull);
        unsupported(p, n, "target_parameters", v -> v.isNull() || (v.isArray() && v.isEmpty()));
        unsupported(p, n, "trainable_token_indices", JsonNode::isNull);
        unsupported(p, n, "use_qalora", v -> v.isBoolean() && !v.asBoolean());
        LoraConfig c = b.build();
        p.addAll(c.validate());
        ConfigException.throwIfAny(p);
        return c;
    }

    private static void unsupported(List<String> p, JsonNode n, String field, java.util.function.Predicate<JsonNode> ok) {
        JsonNode v = n.get(field);
        if (v != null && !ok.test(v)) {
            p.add(field + " = " + v + " is not supported by peft4j; the adapter needs a PEFT feature this runtime lacks");
        }
    }

    private static String text(JsonNode n, String field, String dflt) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(x -> out.add(x.asText()));
        return out;
    }
}
