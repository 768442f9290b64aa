package org.peft4j.peft.adalora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.config.ConfigException;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.SafeTensors;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.peft.PeftFiles;
import org.peft4j.peft.PeftJson;
import org.peft4j.peft.PeftType;
import org.peft4j.peft.TargetSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * AdaLoRA adapters on disk in Hugging Face PEFT's layout: {@code adapter_config.json} with
 * {@code "peft_type": "ADALORA"} and the {@code rank_pattern}, and {@code adapter_model.safetensors}
 * with PEFT's keys {@code base_model.model.<path>.lora_A} [k, in], {@code .lora_E} [k, 1] and
 * {@code .lora_B} [out, k] (no {@code .weight}: PEFT keeps them in a ParameterDict), where k is the
 * surviving rank, as PEFT's {@code resize_state_dict_by_rank_pattern} slices them; modules to save
 * as {@code base_model.model.<path>.weight}. {@code ranknum} is not saved (PEFT does not save it
 * either): a loaded layer scales by α / init_r.
 */
public final class AdaLoraFiles {

    public static final String CONFIG = PeftFiles.CONFIG;
    public static final String WEIGHTS = PeftFiles.WEIGHTS;
    static final String PREFIX = PeftFiles.PREFIX;

    /** The fields {@link #load} uses; every other one is sorted by {@link PeftJson#checkUnused}. */
    private static final Set<String> USED = Set.of("init_r", "target_r", "tinit", "tfinal", "deltaT", "beta1", "beta2",
            "orth_reg_weight", "total_step", "rank_pattern", "lora_alpha", "lora_dropout", "target_modules",
            "exclude_modules", "layers_to_transform", "layers_pattern", "modules_to_save", "fan_in_fan_out",
            "peft4j_orth_reg_kind", "bias", "use_dora",
            // LoraConfig fields PEFT's AdaLoRA layers never read: r (PEFT warns when it is not 8), the init, rsLoRA's
            // scale, and alpha_pattern (every layer scales by lora_alpha / ranknum)
            "r", "init_lora_weights", "use_rslora", "alpha_pattern");

    private AdaLoraFiles() {
    }

    /**
     * Writes the adapter; the schedule must be resolved (T known), since PEFT's AdaLoraConfig reads
     * tinit, tfinal and deltaT as step counts and refuses a file without total_step.
     *
     * @param taskType  PEFT's task type, e.g. "SEQ_CLS"
     * @param baseModel what the adapter was trained on (a hub id or a directory)
     */
    public static void save(AdaLoraModel model, Path dir, String taskType, String baseModel) throws IOException {
        if (!model.config().scheduleResolved()) {
            // PEFT's AdaLoraConfig needs total_step > 0 and step counts for tinit, tfinal and deltaT
            throw new IllegalStateException("the AdaLoRA schedule is not resolved (tinit " + model.config().tinit()
                    + ", tfinal " + model.config().tfinal() + ", deltaT " + model.config().deltaT() + "; -1 = AUTO) and"
                    + " adalora.totalSteps is 0, so adapter_config.json would hold no step counts PEFT can load; call"
                    + " AdaLoraModel.resolveTotalSteps(the run's optimizer steps) first, or give totalSteps");
        }
        Files.createDirectories(dir);
        try (NDScope scope = new NDScope()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            model.layers().forEach((path, layer) -> {
                if (layer.rank() == 0) {
                    tensors.put(PREFIX + path + ".lora_A", layer.loraA().value());
                    tensors.put(PREFIX + path + ".lora_E", layer.loraE().value());
                    tensors.put(PREFIX + path + ".lora_B", layer.loraB().value());
                    return;
                }
                NDArray keep = layer.mask().reshape(layer.rank()).gt(0f);
                tensors.put(PREFIX + path + ".lora_A", layer.loraA().value().get(keep));
                tensors.put(PREFIX + path + ".lora_E", layer.loraE().value().get(keep));
                // columns of P: select rows of Pᵀ, then back to [out, k] in contiguous memory
                tensors.put(PREFIX + path + ".lora_B", layer.loraB().value().transpose().get(keep).transpose().duplicate());
            });
            model.modulesToSave().forEach((path, m) ->
                    m.namedParameters().forEach((n, p) -> tensors.put(PREFIX + Module.join(path, n), p.value())));
            SafeTensors.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
        }
        AtomicFiles.writeString(dir.resolve(CONFIG), PeftFiles.JSON.writeValueAsString(configJson(model, taskType, baseModel)));
    }

    static ObjectNode configJson(AdaLoraModel model, String taskType, String baseModel) {
        AdaLoraConfig c = model.config();
        ObjectNode n = PeftFiles.JSON.createObjectNode();
        n.put("peft_type", "ADALORA");
        n.put("task_type", taskType);
        n.put("base_model_name_or_path", baseModel);
        n.put("init_r", c.initR());
        n.put("target_r", c.targetR());
        n.put("tinit", c.tinit());
        n.put("tfinal", c.tfinal());
        n.put("deltaT", c.deltaT());
        n.put("beta1", c.beta1());
        n.put("beta2", c.beta2());
        n.put("orth_reg_weight", c.orthReg());
        if (c.totalSteps() > 0) {
            n.put("total_step", c.totalSteps());
        } else {
            n.putNull("total_step");
        }
        ObjectNode pattern = n.putObject("rank_pattern");
        model.rankPattern().forEach((k, v) -> {
            ArrayNode a = pattern.putArray(k);
            v.forEach(a::add);
        });
        // PEFT's LoraConfig field r is unused by AdaLoRA (it warns when it is not 8)
        n.put("r", 8);
        n.put("lora_alpha", c.alpha());
        n.put("lora_dropout", c.dropout());
        if (c.targetRegex() != null) {
            n.put("target_modules", c.targetRegex());
        } else {
            ArrayNode t = n.putArray("target_modules");
            c.targets().forEach(t::add);
        }
        if (c.modulesToSave().isEmpty()) {
            n.putNull("modules_to_save");
        } else {
            ArrayNode save = n.putArray("modules_to_save");
            c.modulesToSave().forEach(save::add);
        }
        n.put("bias", "none");
        // the layers' own layout (GPT-2's Conv1D: [in, out]), as PEFT saves it after setting it for Conv1D
        n.put("fan_in_fan_out", !model.layers().isEmpty() && model.layers().values().stream().allMatch(SvdLinear::fanInFanOut));
        n.put("init_lora_weights", true);
        n.put("inference_mode", true);
        // not a PEFT field: which R the run used, so that a peft4j run can be reproduced
        n.put("peft4j_orth_reg_kind", c.orthRegKind().name());
        return n;
    }

    /**
     * Reads an adapter directory (ours or PEFT's) and puts its layers into {@code root} at the
     * surviving ranks of its {@code rank_pattern} (init_r where there is none; 0 where every
     * triplet was pruned), with the saved weights; modules to save get their saved weights, and the
     * heads PEFT adds for the task ({@code score} beside {@code classifier}) count where the model
     * has them. The result is for inference or merging: no rank allocator is built for it.
     */
    public static AdaLoraModel load(Path dir, Module root, NDManager manager) throws IOException {
        JsonNode json = PeftFiles.readConfig(dir);
        if (PeftFiles.peftType(json, dir) != PeftType.ADALORA) {
            throw new IllegalArgumentException(dir.resolve(CONFIG) + ": peft_type is '" + json.path("peft_type").asText()
                    + "', expected 'ADALORA'; load LoRA adapters with peft.lora.AdapterFiles");
        }
        List<String> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        PeftJson.checkUnused(json, USED, problems, notes);
        if (!"none".equals(PeftJson.text(json, "bias", "none"))) {
            problems.add("bias = " + json.get("bias") + ": peft4j's AdaLoRA trains and loads no biases; use bias \"none\"");
        }
        if (json.path("use_dora").asBoolean(false)) {
            problems.add("use_dora = true: AdaLoRA has no DoRA form (PEFT refuses it too)");
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems.stream().map(x -> dir.resolve(CONFIG) + ": " + x).toList());
        }
        AdaLoraConfig config = configFrom(json);
        java.util.Set<String> modules = root.namedModules().keySet();
        TargetSpec read = PeftJson.readTargeting(json);
        TargetSpec targeting = new TargetSpec(PeftFiles.builtTargets(read.names(), modules), read.regex(),
                read.allLinear(), read.exclude(), read.excludeRegex(), read.layersToTransform(), read.layersPattern());
        Map<String, Integer> ranks = ranksFrom(json.get("rank_pattern"));
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        SafeTensors.read(PeftFiles.weights(dir), manager).forEach((key, t) -> {
            String path = PeftFiles.modelPath(key);
            tensors.put(path == null ? key : path, t);
        });
        try {
            AdaLoraModel model = AdaLoraInjector.inject(root, config, targeting,
                    PeftFiles.taskHeads(json.path("task_type").asText(null)), (path, base) -> new SvdLinear(base,
                            ranks.getOrDefault(path, config.initR()), config.initR(), config.alpha(), config.dropout(),
                            manager));
            List<String> unknown = new ArrayList<>(ranks.keySet());
            unknown.removeAll(model.layers().keySet());
            unknown.removeIf(p -> PeftFiles.unbuiltModule(p, modules) != null);
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException(dir.resolve(CONFIG) + ": rank_pattern names modules " + unknown
                        + " that target_modules does not adapt; adapted: " + model.adaptedPaths());
            }
            for (Map.Entry<String, Parameter> e : model.adapterParameters().entrySet()) {
                String key = PREFIX + e.getKey();
                NDArray t = tensors.remove(e.getKey());
                if (t == null) {
                    throw new IllegalArgumentException(dir.resolve(WEIGHTS) + " has no tensor '" + key + "'; it has "
                            + tensors.keySet().stream().map(p -> PREFIX + p).toList());
                }
                Shape want = e.getValue().value().getShape();
                if (!t.getShape().equals(want)) {
                    throw new IllegalArgumentException(dir.resolve(WEIGHTS) + ": tensor '" + key + "' has shape "
                            + t.getShape() + " but the layer needs " + want
                            + " (rank_pattern and the saved tensors disagree)");
                }
                e.getValue().set(t);
            }
            PeftFiles.report(dir, notes);
            return model;
        } finally {
            tensors.values().forEach(NDArray::close);
        }
    }

    private static AdaLoraConfig configFrom(JsonNode j) {
        TargetSpec targeting = PeftJson.readTargeting(j);
        List<String> names = targeting.names();
        String regex = targeting.regex();
        List<String> save = PeftJson.modulesToSave(j);
        JsonNode kind = j.get("peft4j_orth_reg_kind");
        // a PEFT file with no total_step (or with tinit + tfinal ≥ total_step) loads for inference: T plays no part
        int total = j.path("total_step").asInt(0);
        int tinit = j.path("tinit").asInt(0);
        int tfinal = j.path("tfinal").asInt(0);
        if (total > 0 && (long) tinit + tfinal >= total) {
            total = 0;
        }
        return new AdaLoraConfig(j.path("init_r").asInt(12), j.path("target_r").asInt(8), tinit, tfinal,
                j.path("deltaT").asInt(1), j.path("beta1").asDouble(0.85), j.path("beta2").asDouble(0.85),
                j.path("orth_reg_weight").asDouble(0.5), total, j.path("lora_alpha").asDouble(8),
                j.path("lora_dropout").asDouble(0), names, regex, save,
                kind == null ? OrthRegKind.PEFT : OrthRegKind.valueOf(kind.asText()));
    }

    /** rank_pattern {"<path>.lora_E": [true, false, ...]} (the adapter name may follow) → surviving rank per path. */
    static Map<String, Integer> ranksFrom(JsonNode pattern) {
        Map<String, Integer> out = new LinkedHashMap<>();
        if (pattern == null || pattern.isNull()) {
            return out;
        }
        pattern.fields().forEachRemaining(e -> {
            String key = e.getKey();
            int at = key.lastIndexOf(".lora_E");
            if (at < 0) {
                throw new IllegalArgumentException("rank_pattern key '" + key + "' does not name a lora_E parameter");
            }
            int rank = 0;
            for (JsonNode b : e.getValue()) {
                if (b.asBoolean()) {
                    rank++;
                }
            }
            out.put(key.substring(0, at), rank);
        });
        return out;
    }
}
