package org.peft4j.peft.adalora;

import ai.djl.ndarray.NDManager;
import org.peft4j.config.ConfigException;
import org.peft4j.nn.Module;
import org.peft4j.peft.lora.LoraInjector;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Puts {@link SvdLinear} layers of rank initR in place of the target linears (matched exactly as
 * for LoRA, by {@link LoraInjector#matchTargets}), freezes everything else and unfreezes the
 * modules to save. A target is any linear-like layer: a {@link org.peft4j.nn.Linear}, or GPT-2's
 * Conv1D, whose [in, out] layout the layer itself declares (as for LoRA, PEFT's fan_in_fan_out is
 * taken from the layer, so AdaLoRA needs no such setting).
 */
public final class AdaLoraInjector {

    private AdaLoraInjector() {
    }

    public static AdaLoraModel inject(Module root, AdaLoraConfig config, NDManager manager) {
        return inject(root, config,
                (path, base) -> new SvdLinear(base, config.initR(), config.alpha(), config.dropout(), manager));
    }

    /** Injection with a layer factory per module path (loading builds layers at their saved ranks). */
    static AdaLoraModel inject(Module root, AdaLoraConfig config, BiFunction<String, Module, SvdLinear> factory) {
        Map<String, Module> modules = root.namedModules();
        List<String> targets = LoraInjector.matchTargets(modules, config.targetMatching());

        root.setTrainable(false);
        Map<String, SvdLinear> adapted = new LinkedHashMap<>();
        for (String path : targets) {
            SvdLinear layer = factory.apply(path, modules.get(path));
            layer.adapterParameters().values().forEach(p -> p.setTrainable(true));
            parentOf(root, path).replaceChild(lastPart(path), layer);
            adapted.put(path, layer);
        }

        Map<String, Module> saved = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String name : config.modulesToSave()) {
            List<String> found = modules.keySet().stream()
                    .filter(p -> p.equals(name) || p.endsWith("." + name)).toList();
            if (found.isEmpty()) {
                missing.add(name);
            }
            for (String p : found) {
                modules.get(p).setTrainable(true);
                saved.put(p, modules.get(p));
            }
        }
        if (!missing.isEmpty()) {
            throw new ConfigException("adalora.modulesToSave " + missing + " matches no module; top-level modules: "
                    + root.children().keySet());
        }
        return new AdaLoraModel(root, config, adapted, saved);
    }

    static Module parentOf(Module root, String path) {
        int dot = path.lastIndexOf('.');
        return dot < 0 ? root : root.module(path.substring(0, dot));
    }

    static String lastPart(String path) {
        return path.substring(path.lastIndexOf('.') + 1);
    }
}
