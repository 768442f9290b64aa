package org.peft4j.peft.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.config.ConfigException;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.SafeTensors;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.tensor.Backend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Adapters on disk in Hugging Face PEFT's layout, so that Python can load ours and we theirs:
 * {@code adapter_config.json} and {@code adapter_model.safetensors} with keys
 * {@code base_model.model.<path>.lora_A.weight} [r, in], {@code ...lora_B.weight} [out, r],
 * {@code ...lora_magnitude_vector} [out] with DoRA, and the modules to save as
 * {@code base_model.model.<path>.weight}. PEFT's {@code get_peft_model_state_dict} strips the
 * adapter name ({@code .default}) and the {@code modules_to_save.default} wrapper; the reader also
 * accepts keys that still carry them.
 */
public final class AdapterFiles {

    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    static final String PREFIX = "base_model.model.";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private AdapterFiles() {
    }

    /**
     * Saves the active adapter.
     *
     * @param taskType  PEFT's task type, e.g. "SEQ_CLS"
     * @param baseModel what the adapter was trained on (a hub id or a directory)
     */
    public static void save(LoraModel model, Path dir, String taskType, String baseModel) throws IOException {
        Files.createDirectories(dir);
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        model.adapterParameters().forEach((path, p) -> tensors.put(PREFIX + path, p.value()));
        SafeTensors.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
        AtomicFiles.writeString(dir.resolve(CONFIG), JSON.writeValueAsString(configJson(model, taskType, baseModel)));
    }

    static ObjectNode configJson(LoraModel model, String taskType, String baseModel) {
        return LoraConfigJson.write(model.config(), taskType, baseModel, JSON);
    }

    /** Reads {@code adapter_config.json} of a directory. */
    public static LoraConfig readConfig(Path dir) throws IOException {
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
        try {
            return LoraConfigJson.read(node);
        } catch (ConfigException e) {
            throw prefixed(file.toString(), e);
        }
    }

    /** Loads an adapter written by PEFT (or by {@link #save}) into {@code model}, on the default engine. */
    public static LoraModel load(Path dir, Module model) throws IOException {
        return load(dir, model, Backend.get().manager());
    }

    /**
     * Loads an adapter written by PEFT (or by {@link #save}): injects it with the file's
     * configuration and sets its tensors. Every mismatch between the files and the model (a target
     * that does not exist, a missing, extra or misshapen tensor) is reported before the model is
     * touched, in one {@link ConfigException}. The base weights are never changed: a PiSSA adapter
     * expects the residual base model it was saved with, as in PEFT.
     */
    public static LoraModel load(Path dir, Module model, NDManager manager) throws IOException {
        Checked checked = check(dir, model);
        // PiSSA's SVD would change the base weights; the file's tensors replace A and B anyway
        LoraModel lora = LoraInjector.inject(model, neutral(checked.config), manager);
        lora.putConfig(LoraLinear.DEFAULT, checked.config);
        setTensors(lora, checked, manager);
        return lora;
    }

    /**
     * Loads an adapter from disk as another named adapter of {@code lora}; the active adapter stays
     * active. Its modules to save and trained biases would overwrite the ones the model's adapters
     * share (peft4j keeps no per-adapter copy), so an adapter that has them is refused.
     */
    public static void loadAdapter(LoraModel lora, Path dir, String name, NDManager manager) throws IOException {
        Checked checked = check(dir, lora.root());
        List<String> problems = new ArrayList<>();
        if (!checked.config.modulesToSave().isEmpty()) {
            problems.add(dir.resolve(CONFIG) + ": modules_to_save " + checked.config.modulesToSave()
                    + " would overwrite the modules this model's adapters share; load it on its own with load()");
        }
        if (checked.config.bias() != LoraBias.NONE) {
            problems.add(dir.resolve(CONFIG) + ": bias = " + checked.config.bias().peftName()
                    + " would overwrite the biases this model's adapters share; load it on its own with load()");
        }
        ConfigException.throwIfAny(problems);
        lora.addAdapter(name, neutral(checked.config));
        lora.putConfig(name, checked.config);
        String previous = lora.activeAdapter();
        lora.setAdapter(name);
        try {
            setTensors(lora, checked, manager);
        } finally {
            lora.setAdapter(previous);
        }
    }

    private record Checked(LoraConfig config, Path weights, Map<String, String> fileKeyByPath) {
    }

    private static LoraConfig neutral(LoraConfig config) {
        return config.toBuilder().init(LoraInit.KAIMING_UNIFORM).build();
    }

    private static void setTensors(LoraModel lora, Checked checked, NDManager manager) throws IOException {
        Map<String, NDArray> tensors = SafeTensors.read(checked.weights, manager);
        for (Map.Entry<String, Parameter> e : lora.adapterParameters().entrySet()) {
            e.getValue().set(tensors.get(checked.fileKeyByPath.get(e.getKey())));
        }
    }

    /** Reads the config and the tensor header and reports every mismatch with {@code model} at once. */
    private static Checked check(Path dir, Module model) throws IOException {
        LoraConfig config = readConfig(dir);
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weights)) {
            throw new IOException(weights + " does not exist: an adapter directory holds " + CONFIG + " and " + WEIGHTS);
        }
        Map<String, SafeTensors.Entry> header = SafeTensors.header(weights);
        Map<String, String> fileKeyByPath = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (String key : header.keySet()) {
            String path = modelPath(key);
            if (path == null) {
                problems.add(weights + ": tensor '" + key + "' does not start with '" + PREFIX + "', as PEFT's keys do");
            } else if (fileKeyByPath.putIfAbsent(path, key) != null) {
                problems.add(weights + ": tensors '" + fileKeyByPath.get(path) + "' and '" + key + "' both name " + path);
            }
        }
        Map<String, Shape> expected;
        try {
            expected = expectedShapes(model, config);
        } catch (ConfigException e) {
            throw prefixed(dir.resolve(CONFIG) + " does not fit the model", e);
        }
        for (Map.Entry<String, Shape> e : expected.entrySet()) {
            String key = fileKeyByPath.get(e.getKey());
            if (key == null) {
                problems.add(weights + ": tensor '" + PREFIX + e.getKey() + "' of shape " + e.getValue()
                        + " is missing; the config and the model call for it");
                continue;
            }
            Shape found = new Shape(header.get(key).shape());
            if (!found.equals(e.getValue())) {
                problems.add(weights + ": tensor '" + key + "' has shape " + found + " but the model expects "
                        + e.getValue() + explainShape(e.getKey()));
            }
        }
        TreeSet<String> extra = new TreeSet<>(fileKeyByPath.keySet());
        extra.removeAll(expected.keySet());
        extra.forEach(p -> problems.add(weights + ": tensor '" + fileKeyByPath.get(p)
                + "' fits nothing the config adapts or saves; the model's adapter tensors are " + expected.keySet()));
        ConfigException.throwIfAny(problems);
        return new Checked(config, weights, fileKeyByPath);
    }

    private static String explainShape(String path) {
        if (path.endsWith(".lora_A.weight")) {
            return " ([r, in_features])";
        }
        if (path.endsWith(".lora_B.weight")) {
            return " ([out_features, r])";
        }
        if (path.endsWith("." + LoraLinear.MAGNITUDE)) {
            return " ([out_features])";
        }
        return "";
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
        return p;
    }

    /**
     * The tensors that {@code config} on {@code root} reads and writes, by path, with their shapes;
     * computed without touching the model, so that a mismatch is reported before anything changes.
     */
    public static Map<String, Shape> expectedShapes(Module root, LoraConfig config) {
        ConfigException.throwIfAny(config.validate());
        Map<String, Module> modules = root.namedModules();
        List<String> targets = LoraInjector.matchTargets(modules, config);
        LoraInjector.checkLayers(modules, targets, config);
        Map<String, Module> saved = LoraInjector.modulesToSave(root, config);
        Map<String, Shape> out = new LinkedHashMap<>();
        for (String path : targets) {
            LinearLayer base = (LinearLayer) LoraInjector.baseOf(modules.get(path));
            int r = config.rankFor(path);
            out.put(path + ".lora_A.weight", new Shape(r, base.inFeatures()));
            out.put(path + ".lora_B.weight", new Shape(base.outFeatures(), r));
            if (config.useDora()) {
                out.put(path + "." + LoraLinear.MAGNITUDE, new Shape(base.outFeatures()));
            }
        }
        if (config.bias() != LoraBias.NONE) {
            root.namedParameters().forEach((p, v) -> {
                if (!LoraInjector.lastPart(p).equals("bias")) {
                    return;
                }
                String owner = p.equals("bias") ? "" : p.substring(0, p.length() - ".bias".length());
                if (targets.contains(owner)) {
                    out.put(owner + ".base_layer.bias", v.value().getShape());
                } else if (config.bias() == LoraBias.ALL) {
                    out.put(p, v.value().getShape());
                }
            });
        }
        saved.forEach((path, m) -> m.namedParameters().forEach((n, p) -> out.put(Module.join(path, n), p.value().getShape())));
        return out;
    }

    private static ConfigException prefixed(String where, ConfigException e) {
        List<String> p = new ArrayList<>();
        e.problems().forEach(x -> p.add(where + ": " + x));
        return new ConfigException(p);
    }
}
