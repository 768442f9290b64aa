package org.peft4j.peft.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.config.ConfigException;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.SafeTensors;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.peft.PeftFiles;
import org.peft4j.peft.TargetMatcher;
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

    public static final String CONFIG = PeftFiles.CONFIG;
    public static final String WEIGHTS = PeftFiles.WEIGHTS;
    static final String PREFIX = PeftFiles.PREFIX;

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
        AtomicFiles.writeString(dir.resolve(CONFIG), PeftFiles.JSON.writeValueAsString(configJson(model, taskType, baseModel)));
    }

    static ObjectNode configJson(LoraModel model, String taskType, String baseModel) {
        return LoraConfigJson.write(model.config(), taskType, baseModel, PeftFiles.JSON);
    }

    /** Reads {@code adapter_config.json} of a directory. */
    public static LoraConfig readConfig(Path dir) throws IOException {
        return readConfig(dir, PeftFiles.readConfig(dir), new ArrayList<>());
    }

    private static LoraConfig readConfig(Path dir, JsonNode node, List<String> notes) {
        try {
            return LoraConfigJson.read(node, notes);
        } catch (ConfigException e) {
            throw prefixed(dir.resolve(CONFIG).toString(), e);
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
     * touched, in one {@link ConfigException}. A PiSSA or OLoRA adapter rebuilds its residual base
     * from the given (original) base weights, as PEFT's loader does by repeating the init; every
     * other init only chose starting values, which the file's tensors replace. The heads PEFT adds
     * to {@code modules_to_save} for the task ({@code score} beside {@code classifier}) count where
     * the model has them; tensors under a top-level module the model does not build (BERT's
     * {@code pooler} in an encoder that pools itself) are skipped with a note.
     */
    public static LoraModel load(Path dir, Module model, NDManager manager) throws IOException {
        Checked checked = check(dir, model);
        LoraModel lora = LoraInjector.inject(model, onLoad(checked.fitted), manager);
        lora.putConfig(LoraLinear.DEFAULT, checked.config);
        setTensors(lora, checked, manager);
        PeftFiles.report(dir, checked.notes);
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
        if (checked.config.init().changesBase()) {
            problems.add(dir.resolve(CONFIG) + ": init_lora_weights = " + checked.config.init()
                    + " would change the base weights this model's adapters share; convert it to plain LoRA with"
                    + " PEFT's save_pretrained(path_initial_model_for_weight_conversion=...), or load it on its own");
        }
        ConfigException.throwIfAny(problems);
        lora.addAdapter(name, onLoad(checked.fitted));
        lora.putConfig(name, checked.config);
        String previous = lora.activeAdapter();
        lora.setAdapter(name);
        try {
            setTensors(lora, checked, manager);
        } finally {
            lora.setAdapter(previous);
        }
        PeftFiles.report(dir, checked.notes);
    }

    /**
     * @param config the file's configuration, recorded and saved again as it was
     * @param fitted the same with the task heads the model lacks left out of modules_to_save: what is injected
     * @param notes  what to tell the user once the adapter is in
     */
    private record Checked(LoraConfig config, LoraConfig fitted, Path weights, Map<String, String> fileKeyByPath,
                           List<String> notes) {
    }

    /** The init to repeat on load: PiSSA and OLoRA rebuild the residual base; any other init's values are replaced. */
    private static LoraConfig onLoad(LoraConfig config) {
        return config.init().changesBase() ? config : config.toBuilder().init(LoraInit.KAIMING_UNIFORM).build();
    }

    private static void setTensors(LoraModel lora, Checked checked, NDManager manager) throws IOException {
        Map<String, NDArray> tensors = SafeTensors.read(checked.weights, manager);
        try {
            for (Map.Entry<String, Parameter> e : lora.adapterParameters().entrySet()) {
                e.getValue().set(tensors.remove(checked.fileKeyByPath.get(e.getKey())));
            }
        } finally {
            tensors.values().forEach(NDArray::close);            // the skipped ones
        }
    }

    /** Reads the config and the tensor header and reports every mismatch with {@code model} at once. */
    private static Checked check(Path dir, Module model) throws IOException {
        JsonNode json = PeftFiles.readConfig(dir);
        List<String> notes = new ArrayList<>();
        LoraConfig config = readConfig(dir, json, notes);
        LoraConfig fitted = fitted(config, json.path("task_type").asText(null), model);
        Path weights = PeftFiles.weights(dir);
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
            expected = expectedShapes(model, fitted);
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
        TreeSet<String> absentModules = new TreeSet<>();
        Map<String, Module> modules = model.namedModules();
        for (String p : extra) {
            String unbuilt = PeftFiles.unbuiltModule(p, modules.keySet());
            if (unbuilt != null) {
                absentModules.add(unbuilt);
                fileKeyByPath.remove(p);
            } else {
                problems.add(weights + ": tensor '" + fileKeyByPath.get(p)
                        + "' fits nothing the config adapts or saves; the model's adapter tensors are " + expected.keySet());
            }
        }
        if (!absentModules.isEmpty()) {
            notes.add("the model has no module " + absentModules + ", so the adapter's tensors for it are not used"
                    + " (an encoder that pools its own way does not build BERT's pooler, which PEFT's all-linear adapts)");
        }
        ConfigException.throwIfAny(problems);
        return new Checked(config, fitted, weights, fileKeyByPath, notes);
    }

    /**
     * The config as it applies to {@code model}: without the heads PEFT adds to
     * {@code modules_to_save} for {@code taskType} that the model does not have (PEFT lists
     * {@code classifier} and {@code score} for every sequence classifier), and without targets in
     * a module the model does not build (BERT's {@code pooler.dense}); a name of the user's own
     * must still match.
     */
    static LoraConfig fitted(LoraConfig config, String taskType, Module model) {
        java.util.Set<String> modules = model.namedModules().keySet();
        List<String> save = PeftFiles.presentModulesToSave(config.modulesToSave(), taskType, modules);
        List<String> targets = PeftFiles.builtTargets(config.targets(), modules);
        if (save.equals(config.modulesToSave()) && targets.equals(config.targets())) {
            return config;
        }
        return config.toBuilder().modulesToSave(save).targets(targets).build();
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

    /** The model path a PEFT key names ({@link PeftFiles#modelPath}). */
    public static String modelPath(String key) {
        return PeftFiles.modelPath(key);
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
