package org.peft4j.peft.adalora;

import ai.djl.ndarray.NDArray;
import org.peft4j.nn.Module;
import org.peft4j.peft.AdapterModel;
import org.peft4j.peft.PeftType;
import org.peft4j.train.StepHook;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model with AdaLoRA layers in place: the layers by module path, the modules trained in full,
 * and, for training, the rank allocator (built once T, the run's optimizer steps, is known). As in
 * PEFT, where {@code AdaLoraModel} extends {@code LoraModel}, it shares the adapter contract; its
 * per-step work is the regularizer, the importance scores and the pruning.
 */
public final class AdaLoraModel extends AdapterModel {

    private AdaLoraConfig config;
    private final Map<String, SvdLinear> layers;
    private final OrthogonalRegularizer regularizer;
    private RankAllocator allocator;

    AdaLoraModel(Module root, AdaLoraConfig config, Map<String, SvdLinear> layers, Map<String, Module> modulesToSave) {
        super(root, modulesToSave);
        this.config = config;
        this.layers = Collections.unmodifiableMap(layers);
        this.regularizer = new OrthogonalRegularizer(config.orthRegKind());
        if (config.totalSteps() > 0) {
            buildAllocator();
        }
    }

    private void buildAllocator() {
        allocator = new RankAllocator(layers, config, new BudgetSchedule(config, layers.size()));
    }

    @Override
    public PeftType peftType() {
        return PeftType.ADALORA;
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

    /** {@link #hook} as the training loop's step hook, its allocator state included in checkpoints. */
    @Override
    public StepHook stepHook(int runSteps) {
        return new AdaLoraStepHook(hook(runSteps));
    }

    @Override
    public AdaLoraConfig config() {
        return config;
    }

    /** Adapted layers by the module path of the linear they replaced, in injection order. */
    @Override
    public Map<String, SvdLinear> layers() {
        return layers;
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

    /** Writes PEFT's layout with the pruned triplets left out ({@link AdaLoraFiles#save}). */
    @Override
    public void save(Path dir, String taskType, String baseModel) throws IOException {
        AdaLoraFiles.save(this, dir, taskType, baseModel);
    }
}
