package org.peft4j.peft.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.config.ConfigException;
import org.peft4j.peft.PeftJson;
import org.peft4j.peft.TargetSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@link LoraConfig} as PEFT's {@code adapter_config.json}: the same field names and value
 * spellings ({@code use_rslora}, {@code init_lora_weights: true | "gaussian" | "pissa"},
 * {@code target_modules: [...] | "regex" | "all-linear"}, …), so that either side reads the other's.
 *
 * <p>Every {@code init_lora_weights} PEFT writes is read: the init only chose starting values that
 * the file's tensors replace, except where it also changed the base weights. PiSSA and OLoRA are
 * repeated on load as PEFT repeats them, which rebuilds the residual base; a randomised PiSSA
 * ({@code pissa_niter_N}), CorDA, LoftQ and LoRA-GA cannot be repeated (a random draw, or data the
 * file does not hold), so the adapter is applied to the base it is given, with a warning that
 * says which base it needs and how to convert it.
 */
public final class LoraConfigJson {

    /** PEFT's shorthand for every linear layer but the output head. */
    public static final String ALL_LINEAR = PeftJson.ALL_LINEAR;

    /** The fields {@link #read} uses; every other one is sorted by {@link PeftJson#checkUnused}. */
    private static final Set<String> USED = Set.of("r", "lora_alpha", "lora_dropout", "target_modules",
            "exclude_modules", "bias", "modules_to_save", "fan_in_fan_out", "init_lora_weights", "use_rslora",
            "use_dora", "rank_pattern", "alpha_pattern", "layers_to_transform", "layers_pattern");

    private static final Pattern PISSA_NITER = Pattern.compile("pissa_niter_\\d+");

    /** Inits that only choose the starting A and B, which a loaded file replaces. */
    private static final Set<String> STARTING_VALUES_ONLY = Set.of("eva", "orthogonal", "mica");

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
        TargetSpec t = c.targeting();
        PeftJson.writeTargeting(n, t);
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
            case OLORA -> n.put("init_lora_weights", "olora");
            default -> n.put("init_lora_weights", true);
        }
        n.put("use_rslora", c.rsLora());
        n.put("use_dora", c.useDora());
        ObjectNode rp = n.putObject("rank_pattern");
        c.rankPattern().forEach(rp::put);
        ObjectNode ap = n.putObject("alpha_pattern");
        c.alphaPattern().forEach(ap::put);
        n.put("inference_mode", true);
        return n;
    }

    /** Reads PEFT's fields; every value peft4j cannot honour is reported, together, by field. */
    public static LoraConfig read(JsonNode n) {
        return read(n, new ArrayList<>());
    }

    /**
     * As {@link #read(JsonNode)}; what the file says that peft4j handles in its own way (an init
     * that changed the base weights, fields it does not use) is added to {@code notes}.
     */
    public static LoraConfig read(JsonNode n, List<String> notes) {
        List<String> p = new ArrayList<>();
        String type = PeftJson.text(n, "peft_type", "LORA");
        if (!type.equals("LORA")) {
            p.add("peft_type = '" + type + "': this reader loads LORA adapters only");
        }
        LoraConfigBuilder b = LoraConfig.builder();
        b.r(n.path("r").asInt(8));
        b.alpha(n.path("lora_alpha").asDouble(8));
        b.dropout(n.path("lora_dropout").asDouble(0));
        TargetSpec t = PeftJson.readTargeting(n);
        if (t.allLinear()) {
            b.allLinear();
        }
        b.targets(t.names()).targetRegex(t.regex()).exclude(t.exclude()).excludeRegex(t.excludeRegex())
                .layersToTransform(t.layersToTransform()).layersPattern(t.layersPattern());
        try {
            b.bias(LoraBias.fromPeft(PeftJson.text(n, "bias", "none")));
        } catch (ConfigException e) {
            p.addAll(e.problems());
        }
        b.modulesToSave(PeftJson.modulesToSave(n));
        b.fanInFanOut(n.path("fan_in_fan_out").asBoolean(false));
        readInit(n.get("init_lora_weights"), b, p, notes);
        b.rsLora(n.path("use_rslora").asBoolean(false));
        b.useDora(n.path("use_dora").asBoolean(false));
        Map<String, Integer> rp = new LinkedHashMap<>();
        n.path("rank_pattern").fields().forEachRemaining(e -> rp.put(e.getKey(), e.getValue().asInt()));
        b.rankPattern(rp);
        Map<String, Double> ap = new LinkedHashMap<>();
        n.path("alpha_pattern").fields().forEachRemaining(e -> ap.put(e.getKey(), e.getValue().asDouble()));
        b.alphaPattern(ap);
        PeftJson.checkUnused(n, USED, p, notes);
        LoraConfig c = b.build();
        p.addAll(c.validate());
        ConfigException.throwIfAny(p);
        return c;
    }

    /** The warning for an init that changed the base weights in a way the file cannot repeat. */
    private static String cannotRebuild(String init, String base) {
        return "init_lora_weights = \"" + init + "\" changed the base weights in training, and peft4j cannot rebuild"
                + " them from the file; the adapter is applied to the base model as given, so give " + base
                + ", or convert the adapter to plain LoRA with PEFT's save_pretrained(path_initial_model_for_weight_conversion=...)"
                + " and use the original model";
    }

    /**
     * {@code init_lora_weights}: true, false and the inits that only choose starting values load as
     * plain LoRA; PiSSA and OLoRA are repeated on the given base, as PEFT does; the rest changed the
     * base weights in a way that needs data the file does not hold.
     */
    private static void readInit(JsonNode init, LoraConfigBuilder b, List<String> p, List<String> notes) {
        String v = init == null || init.isNull() ? "true" : init.isBoolean() ? Boolean.toString(init.asBoolean())
                : init.isTextual() ? init.asText() : init.toString();
        String residual = "the residual base W − s·B₀A₀ is rebuilt from the base model it is loaded on, as PEFT does:"
                + " give the original model, not a saved residual one";
        switch (v) {
            case "true", "false" -> b.init(LoraInit.KAIMING_UNIFORM);
            case "gaussian" -> b.init(LoraInit.GAUSSIAN);
            case "pissa" -> {
                b.init(LoraInit.PISSA);
                notes.add("init_lora_weights = \"pissa\": " + residual);
            }
            case "olora" -> {
                b.init(LoraInit.OLORA);
                notes.add("init_lora_weights = \"olora\": " + residual);
            }
            case "corda", "loftq", "lora_ga" -> {
                b.init(LoraInit.KAIMING_UNIFORM);
                notes.add(cannotRebuild(v, v.equals("loftq") ? "the base LoftQ left (the quantised backbone saved with"
                        + " the adapter)" : "the residual base saved with the adapter"));
            }
            default -> {
                if (STARTING_VALUES_ONLY.contains(v)) {
                    b.init(LoraInit.KAIMING_UNIFORM);
                } else if (PISSA_NITER.matcher(v).matches()) {
                    b.init(LoraInit.KAIMING_UNIFORM);
                    notes.add(cannotRebuild(v, "the residual base saved with the adapter (PEFT's randomised SVD"
                            + " cannot be repeated: it draws a different residual on every load)"));
                } else {
                    p.add("init_lora_weights = " + init + " is not an init PEFT writes; valid: true, false, \"gaussian\","
                            + " \"eva\", \"olora\", \"pissa\", \"pissa_niter_<n>\", \"corda\", \"loftq\", \"orthogonal\","
                            + " \"lora_ga\", \"mica\"");
                }
            }
        }
    }
}
