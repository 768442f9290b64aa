package org.peft4j.peft.adalora;

import ai.djl.ndarray.NDArray;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model with AdaLoRA layers in place: the layers by module path, the modules trained in full,
 * and, for training, the rank allocator (built once T, the run's optimizer steps, is known).
 */
public final class AdaLoraModel {

    private final Module root;
    private AdaLoraConfig config;
    private final Map<String, SvdLinear> layers;
    private final Map<String, Module> modulesToSave;
    private final OrthogonalRegularizer regularizer;
    private RankAllocator allocator;
    private boolean unloaded;

    AdaLoraModel(Module root, AdaLoraConfig config, Map<String, SvdLinear> layers, Map<String, Module> modulesToSave) {
        this.root = root;
        this.config = config;
        this.layers = Collections.unmodifiableMap(layers);
        this.modulesToSave = Collections.unmodifiableMap(modulesToSave);
        this.regularizer = new OrthogonalRegularizer(config.orthRegKind());
        if (config.totalSteps() > 0) {
            buildAllocator();
        }
    }

    private void buildAllocator() {
        allocator = new RankAllocator(layers, config, new BudgetSchedule(config, layers.size()));
    }

    /**
     * Fixes T when the config left it at 0 (the run's optimizer steps) and builds the allocator;
     * a T given in the config wins, as PEFT's {@code total_step}. Validates tinit + tfinal &lt; T.
     */
    public RankAllocator resolveTotalSteps(int runSteps) {
        if (allocator == null) {
            config = config.withTotalSteps(config.totalSteps() > 0 ? config.totalSteps() : runSteps);
            buildAllocator();
        }
        return allocator;
    }

    /** The rank allocator; exists once T is known (in the config or through {@link #resolveTotalSteps}). */
    public RankAllocator allocator() {
        if (allocator == null) {
            throw new IllegalStateException("adalora.totalSteps is 0, so the budget schedule is not built yet;"
                    + " call resolveTotalSteps(the run's optimizer steps) before training");
        }
        return allocator;
    }

    /** A hook for the training loop (see {@link AdaLoraHook}); resolves T from the run if needed. */
    public AdaLoraHook hook(int runSteps) {
        return new AdaLoraHook(this, resolveTotalSteps(runSteps));
    }

    public Module root() {
        return root;
    }

    public AdaLoraConfig config() {
        return config;
    }

    /** Adapted layers by the module path of the linear they replaced, in injection order. */
    public Map<String, SvdLinear> layers() {
        return layers;
    }

    public List<String> adaptedPaths() {
        return new ArrayList<>(layers.keySet());
    }

    public Map<String, Module> modulesToSave() {
        return modulesToSave;
    }

    /** R(P, Q) over all layers, unweighted (the caller multiplies by γ); null when no layer has a triplet. */
    public NDArray orthogonalPenalty() {
        return regularizer.penalty(layers.values());
    }

    /**
     * Surviving triplets per layer in PEFT's {@code rank_pattern} form: key {@code <path>.lora_E},
     * value one boolean per initial triplet (true = kept).
     */
    public Map<String, List<Boolean>> rankPattern() {
        Map<String, List<Boolean>> out = new LinkedHashMap<>();
        layers.forEach((path, layer) -> {
            List<Boolean> keep = new ArrayList<>();
            for (boolean b : layer.survivors()) {
                keep.add(b);
            }
            out.put(path + ".lora_E", keep);
        });
        return out;
    }

    /** Surviving rank per module path. */
    public Map<String, Integer> ranks() {
        Map<String, Integer> out = new LinkedHashMap<>();
        layers.forEach((path, layer) -> out.put(path, layer.activeRank()));
        return out;
    }

    /**
     * The adapter's parameters by PEFT's state-dict names: {@code <path>.lora_A}, {@code .lora_E},
     * {@code .lora_B}, and the full parameters of the modules to save.
     */
    public Map<String, Parameter> adapterParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        layers.forEach((path, layer) -> layer.adapterParameters().forEach((n, p) -> out.put(path + "." + n, p)));
        modulesToSave.forEach((path, m) -> m.namedParameters().forEach((n, p) -> out.put(Module.join(path, n), p)));
        return out;
    }

    public void merge() {
        checkLoaded();
        layers.values().forEach(SvdLinear::merge);
    }

    public void unmerge() {
        checkLoaded();
        layers.values().forEach(SvdLinear::unmerge);
    }

    /**
     * Merges every layer into its base weight and puts each base layer back where its adapter was
     * (a Conv1D keeps its [in, out] weight); returns the root, now a plain model. This AdaLoraModel
     * cannot be used afterwards.
     */
    public Module mergeAndUnload() {
        merge();
        layers.forEach((path, layer) ->
                AdaLoraInjector.parentOf(root, path).replaceChild(AdaLoraInjector.lastPart(path), layer.baseLayer()));
        unloaded = true;
        return root;
    }

    private void checkLoaded() {
        if (unloaded) {
            throw new IllegalStateException("this AdaLoraModel was merged and unloaded; use the returned plain model");
        }
    }
}
