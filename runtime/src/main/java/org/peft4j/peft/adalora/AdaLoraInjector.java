package org.peft4j.peft.adalora;

import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Module;
import org.peft4j.peft.TargetMatcher;
import org.peft4j.peft.TargetSpec;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Puts {@link SvdLinear} layers of rank initR in place of the target linears (found by
 * {@link TargetMatcher}, as for every adapter method), freezes everything else and unfreezes the
 * modules to save. A target is any linear-like layer: a {@link org.peft4j.nn.Linear}, or GPT-2's
 * Conv1D, whose [in, out] layout the layer itself declares (as for LoRA, PEFT's fan_in_fan_out is
 * taken from the layer, so AdaLoRA needs no such setting).
 */
public final class AdaLoraInjector {

    private static final String BLOCK = "adalora";

    private AdaLoraInjector() {
    }

    public static AdaLoraModel inject(Module root, AdaLoraConfig config, NDManager manager) {
        return inject(root, config, config.targeting(), List.of(),
                (path, base) -> new SvdLinear(base, config.initR(), config.alpha(), config.dropout(), manager));
    }

    /**
     * Injection with the targets of {@code spec} (a file may carry filters a recipe does not) and a
     * layer factory per module path (loading builds layers at their saved ranks); names in
     * {@code optionalModules} may match no module. Every check runs before the model is touched.
     */
    static AdaLoraModel inject(Module root, AdaLoraConfig config, TargetSpec spec, Collection<String> optionalModules,
                               BiFunction<String, Module, SvdLinear> factory) {
        Map<String, Module> modules = root.namedModules();
        List<String> targets = TargetMatcher.withoutSaved(TargetMatcher.match(modules, spec, BLOCK), config.modulesToSave());
        Map<String, Module> saved = TargetMatcher.modulesToSave(root, config.modulesToSave(), optionalModules, BLOCK);

        Map<String, SvdLinear> adapted = new LinkedHashMap<>();
        for (String path : targets) {
            adapted.put(path, factory.apply(path, modules.get(path)));
        }
        adapted.forEach((path, layer) ->
                TargetMatcher.parentOf(root, path).replaceChild(TargetMatcher.lastPart(path), layer));
        AdaLoraModel model = new AdaLoraModel(root, config, adapted, saved);
        model.markTrainable();
        return model;
    }
}
