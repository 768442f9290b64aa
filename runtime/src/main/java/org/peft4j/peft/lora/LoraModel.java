package org.peft4j.peft.lora;

import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.peft.AdapterModel;
import org.peft4j.peft.PeftType;
import org.peft4j.peft.TargetMatcher;

import java.io.IOException;
import java.nio.file.Path;
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
public final class LoraModel extends AdapterModel {

    private final NDManager manager;
    private final Map<String, LoraConfig> configs = new LinkedHashMap<>();
    private final Map<String, LoraLinear> layers = new LinkedHashMap<>();
    private String active;

    LoraModel(Module root, NDManager manager, String name, LoraConfig config, Map<String, LoraLinear> layers,
              Map<String, Module> modulesToSave) {
        super(root, modulesToSave);
        this.manager = manager;
        this.active = name;
        this.configs.put(name, config);
        this.layers.putAll(layers);
    }

    @Override
    public PeftType peftType() {
        return PeftType.LORA;
    }

    /** The active adapter's configuration. */
    @Override
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
    @Override
    public Map<String, LoraLinear> layers() {
        Map<String, LoraLinear> out = new LinkedHashMap<>();
        layers.forEach((p, l) -> {
            if (!l.isIdle()) {
                out.put(p, l);
            }
        });
        return Collections.unmodifiableMap(out);
    }

    /**
     * The biases that {@link LoraBias} trains; with the layers' {@code lora_A.weight},
     * {@code lora_B.weight} and DoRA's {@code lora_magnitude_vector}, and the modules to save, they
     * make {@link #adapterParameters()}.
     */
    @Override
    protected Map<String, Parameter> otherParameters() {
        return LoraInjector.trainedBiases(root(), config().bias(), layers());
    }

    @Override
    protected Map<String, LoraLinear> wrappedLayers() {
        return layers;
    }

    @Override
    public void save(Path dir, String taskType, String baseModel) throws IOException {
        AdapterFiles.save(this, dir, taskType, baseModel);
    }

    /** Records the configuration as it was given (loading injects with a neutral init, then sets the tensors). */
    void putConfig(String name, LoraConfig config) {
        configs.put(name, config);
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
        Map<String, Module> saved = LoraInjector.modulesToSave(root(), config);
        Map<String, LoraLinear> added = LoraInjector.addAdapter(root(), name, config, manager);
        added.forEach((p, l) -> {
            layers.putIfAbsent(p, l);
            if (!l.hasAdapter(active)) {
                l.setIdle(true);                        // a new layer: the active adapter does not cover it
            }
        });
        addModulesToSave(saved);
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

    /**
     * Merges the active adapter into the base weights and puts each plain linear back where its
     * adapter was, also where only other adapters were; returns the root, now a plain model. This
     * LoraModel cannot be used afterwards.
     */
    @Override
    public Module mergeAndUnload() {
        Module plain = super.mergeAndUnload();
        layers.clear();
        return plain;
    }

    private void unwrap(String path, LoraLinear layer) {
        TargetMatcher.parentOf(root(), path).replaceChild(TargetMatcher.lastPart(path), layer.baseLayer());
    }
}
