package org.peft4j.peft;

import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.train.StepHook;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model with adapter layers in place, whatever the method: PEFT's {@code BaseTuner} contract.
 * It knows the layers by the path of the linear they wrap, the modules trained in full, and what
 * belongs to the adapter (declared by the layers, never found by name); it merges, unmerges and
 * unloads; it gives the training loop the method's per-step work; and it saves itself in PEFT's
 * layout. {@code merge_and_unload} is written here once.
 */
public abstract class AdapterModel {

    private final Module root;
    private final Map<String, Module> modulesToSave;
    private boolean unloaded;

    protected AdapterModel(Module root, Map<String, Module> modulesToSave) {
        this.root = root;
        this.modulesToSave = new LinkedHashMap<>(modulesToSave);
    }

    /** The method: LoRA or AdaLoRA. */
    public abstract PeftType peftType();

    /** The active adapter's settings. */
    public abstract AdapterConfig config();

    /** The layers that carry the active adapter, by the module path of the linear they replaced. */
    public abstract Map<String, ? extends AdapterLayer> layers();

    /**
     * The method's work inside each optimizer step of a run of {@code runSteps} steps (AdaLoRA's
     * regularizer, importance and pruning), or null when it has none (LoRA).
     */
    public StepHook stepHook(int runSteps) {
        return null;
    }

    /**
     * Writes the active adapter in PEFT's layout ({@code adapter_config.json} and
     * {@code adapter_model.safetensors}), so that {@code PeftModel.from_pretrained} loads it.
     *
     * @param taskType  PEFT's task type, e.g. "SEQ_CLS"
     * @param baseModel what the adapter was trained on (a hub id or a directory)
     */
    public abstract void save(Path dir, String taskType, String baseModel) throws IOException;

    public Module root() {
        return root;
    }

    public List<String> adaptedPaths() {
        return new ArrayList<>(layers().keySet());
    }

    public Map<String, Module> modulesToSave() {
        return Collections.unmodifiableMap(modulesToSave);
    }

    /** Adds modules trained in full (a further adapter's own); they are shared by all adapters. */
    protected void addModulesToSave(Map<String, Module> more) {
        modulesToSave.putAll(more);
    }

    /**
     * The active adapter's parameters by their paths, as PEFT's state dict names them: each
     * layer's own ({@code <path>.lora_A.weight}, ...), then {@link #otherParameters()}, then the
     * full parameters of the modules to save ({@code classifier.weight}).
     */
    public Map<String, Parameter> adapterParameters() {
        checkLoaded();
        Map<String, Parameter> out = new LinkedHashMap<>();
        layers().forEach((path, layer) -> layer.adapterParameters().forEach((n, p) -> out.put(path + "." + n, p)));
        out.putAll(otherParameters());
        modulesToSave.forEach((path, m) -> m.namedParameters().forEach((n, p) -> out.put(Module.join(path, n), p)));
        return out;
    }

    /** Parameters the method trains besides its layers' and the modules to save (LoRA's biases); none by default. */
    protected Map<String, Parameter> otherParameters() {
        return Map.of();
    }

    /** Freezes everything, then unfreezes exactly {@link #adapterParameters()}. */
    public void markTrainable() {
        root.setTrainable(false);
        adapterParameters().values().forEach(p -> p.setTrainable(true));
    }

    /** Folds the active adapter into the base weights; each layer checks its result for NaN and infinity. */
    public void merge() {
        checkLoaded();
        layers().values().forEach(AdapterLayer::merge);
    }

    public void unmerge() {
        checkLoaded();
        layers().values().forEach(AdapterLayer::unmerge);
    }

    /**
     * Merges the active adapter into the base weights and puts each base layer back where its
     * adapter layer was (a Conv1D keeps its [in, out] weight); returns the root, now a plain
     * model. This adapter model cannot be used afterwards.
     */
    public Module mergeAndUnload() {
        merge();
        wrappedLayers().forEach((path, layer) ->
                TargetMatcher.parentOf(root, path).replaceChild(TargetMatcher.lastPart(path), layer.baseLayer()));
        unloaded = true;
        return root;
    }

    /** Every adapter layer in the model, also those the active adapter does not use; all are unwrapped on unload. */
    protected Map<String, ? extends AdapterLayer> wrappedLayers() {
        return layers();
    }

    protected void checkLoaded() {
        if (unloaded) {
            throw new IllegalStateException("this " + getClass().getSimpleName()
                    + " was merged and unloaded; use the returned plain model");
        }
    }
}
