package org.peft4j.peft.lora;

import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model with LoRA adapters in place: which layers were adapted, which modules are trained in
 * full, and what belongs to the adapter (declared by the layers, never found by name). Several
 * named adapters may live on one model; one is active at a time ({@link #setAdapter}), and only
 * its parameters train and are saved, as in PEFT.
 *
 * <p>The modules to save are trained in place and shared by all adapters (PEFT keeps a copy per
 * adapter); {@link #disableAdapters} therefore leaves them as trained.
 */
public final class LoraModel {

    private final Module root;
    private final NDManager manager;
    private final Map<String, LoraConfig> configs = new LinkedHashMap<>();
    private final Map<String, LoraLinear> layers = new LinkedHashMap<>();
    private final Map<String, Module> modulesToSave = new LinkedHashMap<>();
    private String active;
    private boolean unloaded;

    LoraModel(Module root, NDManager manager, String name, LoraConfig config, Map<String, LoraLinear> layers,
              Map<String, Module> modulesToSave) {
        this.root = root;
        this.manager = manager;
        this.active = name;
        this.configs.put(name, config);
        this.layers.putAll(layers);
        this.modulesToSave.putAll(modulesToSave);
    }

    public Module root() {
        return root;
    }

    /** The active adapter's configuration. */
    public LoraConfig config() {
        return configs.get(active);
    }

    public LoraConfig config(String adapter) {
        LoraConfig c = configs.get(adapter);
        if (c == null) {
            throw new IllegalArgumentException("no adapter '" + adapter + "'; adapters: " + configs.keySet());
        }
        return c;
    }

    public String activeAdapter() {
        return active;
    }

    public Set<String> adapterNames() {
        return Collections.unmodifiableSet(configs.keySet());
    }

    /** The layers that carry the active adapter, by the module path of the linear they replaced. */
    public Map<String, LoraLinear> layers() {
        Map<String, LoraLinear> out = new LinkedHashMap<>();
        layers.forEach((p, l) -> {
            if (!l.isIdle()) {
                out.put(p, l);
            }
        });
        return Collections.unmodifiableMap(out);
    }

    public List<String> adaptedPaths() {
        return new ArrayList<>(layers().keySet());
    }

    public Map<String, Module> modulesToSave() {
        return Collections.unmodifiableMap(modulesToSave);
    }

    /**
     * The active adapter's parameters by their path in the original model's naming, as PEFT writes
     * them: {@code <path>.lora_A.weight}, {@code <path>.lora_B.weight}, {@code <path>.lora_magnitude_vector}
     * with DoRA, the biases that {@link LoraBias} trains, and the full parameters of the modules to
     * save ({@code classifier.weight}).
     */
    public Map<String, Parameter> adapterParameters() {
        checkLoaded();
        Map<String, Parameter> out = new LinkedHashMap<>();
        Map<String, LoraLinear> activeLayers = layers();
        activeLayers.forEach((path, layer) -> layer.adapterParameters().forEach((n, p) -> out.put(path + "." + n, p)));
        out.putAll(LoraInjector.trainedBiases(root, config().bias(), activeLayers));
        modulesToSave.forEach((path, m) -> m.namedParameters().forEach((n, p) -> out.put(Module.join(path, n), p)));
        return out;
    }

    /** Records the configuration as it was given (loading injects with a neutral init, then sets the tensors). */
    void putConfig(String name, LoraConfig config) {
        configs.put(name, config);
    }

    /** Freezes everything, then unfreezes exactly {@link #adapterParameters()}. */
    void markTrainable() {
        root.setTrainable(false);
        adapterParameters().values().forEach(p -> p.setTrainable(true));
    }

    /**
     * Adds a named adapter to this model; it is not active until {@link #setAdapter}. Its
     * modules to save must be among this model's (they are shared).
     */
    public void addAdapter(String name, LoraConfig config) {
        checkLoaded();
        if (configs.containsKey(name)) {
            throw new IllegalArgumentException("adapter '" + name + "' already exists; adapters: " + configs.keySet());
        }
        if (layers.values().stream().anyMatch(LoraLinear::isMerged)) {
            throw new IllegalStateException("cannot add adapter '" + name + "' while '" + active + "' is merged; unmerge() first");
        }
        Map<String, Module> saved = LoraInjector.modulesToSave(root, config);
        Map<String, LoraLinear> added = LoraInjector.addAdapter(root, name, config, manager);
        added.forEach((p, l) -> {
            layers.putIfAbsent(p, l);
            if (!l.hasAdapter(active)) {
                l.setIdle(true);                        // a new layer: the active adapter does not cover it
            }
        });
        modulesToSave.putAll(saved);
        configs.put(name, LoraInjector.recorded(config, added));
        markTrainable();
    }

    /** Makes the named adapter the one that runs, trains and is saved. */
    public void setAdapter(String name) {
        checkLoaded();
        config(name);
        for (LoraLinear l : layers.values()) {
            if (l.isMerged()) {
                throw new IllegalStateException("cannot switch to adapter '" + name + "' while '" + active
                        + "' is merged; unmerge() first");
            }
        }
        layers.values().forEach(l -> {
            boolean covered = l.hasAdapter(name);
            if (covered) {
                l.setAdapter(name);
            }
            l.setIdle(!covered);
        });
        active = name;
        markTrainable();
    }

    /** Deletes a non-active adapter; layers it alone covered get their plain linear back. */
    public void deleteAdapter(String name) {
        checkLoaded();
        config(name);
        if (name.equals(active)) {
            throw new IllegalStateException("cannot delete the active adapter '" + name + "'; setAdapter to another first");
        }
        for (Map.Entry<String, LoraLinear> e : new ArrayList<>(layers.entrySet())) {
            LoraLinear l = e.getValue();
            if (!l.hasAdapter(name)) {
                continue;
            }
            if (l.adapterNames().size() == 1) {
                unwrap(e.getKey(), l);
                layers.remove(e.getKey());
            } else {
                l.deleteAdapter(name);
            }
        }
        configs.remove(name);
    }

    /** Runs {@code body} with every adapter switched off, so the model computes its base outputs. */
    public void disableAdapters(Runnable body) {
        checkLoaded();
        if (layers.values().stream().anyMatch(LoraLinear::isMerged)) {
            // a merged adapter lives in the base weight, so switching the layers off would not remove it
            throw new IllegalStateException("cannot disable adapters while '" + active + "' is merged; unmerge() first");
        }
        layers.values().forEach(l -> l.setDisabled(true));
        try {
            body.run();
        } finally {
            layers.values().forEach(l -> l.setDisabled(false));
        }
    }

    public void merge() {
        checkLoaded();
        layers().values().forEach(LoraLinear::merge);
    }

    public void unmerge() {
        checkLoaded();
        layers().values().forEach(LoraLinear::unmerge);
    }

    /**
     * Merges the active adapter into the base weights and puts each plain linear back where its
     * adapter was; returns the root, now a plain model. This LoraModel cannot be used afterwards.
     */
    public Module mergeAndUnload() {
        merge();
        layers.forEach(this::unwrap);
        layers.clear();
        unloaded = true;
        return root;
    }

    private void unwrap(String path, LoraLinear layer) {
        LoraInjector.parentOf(root, path).replaceChild(LoraInjector.lastPart(path), layer.baseLayer());
    }

    private void checkLoaded() {
        if (unloaded) {
            throw new IllegalStateException("this LoraModel was merged and unloaded; use the returned plain model");
        }
    }
}
