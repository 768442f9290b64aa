package org.peft4j.peft.lora;

import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model with LoRA adapters in place: which layers were adapted, which modules are trained in
 * full, and what belongs to the adapter (declared by the layers, never found by name).
 */
public final class LoraModel {

    private final Module root;
    private final LoraConfig config;
    private final Map<String, LoraLinear> layers;
    private final Map<String, Module> modulesToSave;

    LoraModel(Module root, LoraConfig config, Map<String, LoraLinear> layers, Map<String, Module> modulesToSave) {
        this.root = root;
        this.config = config;
        this.layers = Collections.unmodifiableMap(layers);
        this.modulesToSave = Collections.unmodifiableMap(modulesToSave);
    }

    public Module root() {
        return root;
    }

    public LoraConfig config() {
        return config;
    }

    /** Adapted layers by the module path of the linear they replaced. */
    public Map<String, LoraLinear> layers() {
        return layers;
    }

    public List<String> adaptedPaths() {
        return new ArrayList<>(layers.keySet());
    }

    public Map<String, Module> modulesToSave() {
        return modulesToSave;
    }

    /**
     * The adapter's parameters by their path in the original model's naming, as PEFT writes them:
     * {@code <path>.lora_A.weight}, {@code <path>.lora_B.weight}, and the full parameters of the
     * modules to save ({@code classifier.weight}).
     */
    public Map<String, Parameter> adapterParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        layers.forEach((path, layer) -> layer.adapterParameters().forEach((n, p) -> out.put(path + "." + n, p)));
        modulesToSave.forEach((path, m) -> m.namedParameters().forEach((n, p) -> out.put(Module.join(path, n), p)));
        return out;
    }

    public void merge() {
        layers.values().forEach(LoraLinear::merge);
    }

    public void unmerge() {
        layers.values().forEach(LoraLinear::unmerge);
    }
}
