package org.peft4j.peft.lora;

import ai.djl.ndarray.NDManager;
import org.peft4j.config.ConfigException;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Puts {@link LoraLinear} adapters in place of the target linears of a model, freezes everything
 * else, and unfreezes the modules to save. Matching follows Hugging Face PEFT: a target name
 * matches a module path that equals it or ends with {@code "." + name}; a regex must match the
 * whole path, and adapts the linear modules among the paths it matches.
 */
public final class LoraInjector {

    private LoraInjector() {
    }

    public static LoraModel inject(Module root, LoraConfig config, NDManager manager) {
        ConfigException.throwIfAny(config.validate());
        Map<String, Module> modules = root.namedModules();
        List<String> targets = matchTargets(modules, config);

        root.setTrainable(false);
        Map<String, LoraLinear> adapted = new LinkedHashMap<>();
        for (String path : targets) {
            Linear base = (Linear) modules.get(path);
            LoraLinear lora = new LoraLinear(base, config.r(), config.alpha(), config.dropout(), manager);
            lora.loraA().weight().setTrainable(true);
            lora.loraB().weight().setTrainable(true);
            parentOf(root, path).replaceChild(lastPart(path), lora);
            adapted.put(path, lora);
        }

        Map<String, Module> saved = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String name : config.modulesToSave()) {
            List<String> found = modules.keySet().stream().filter(p -> matchesName(p, name)).toList();
            if (found.isEmpty()) {
                missing.add(name);
            }
            for (String p : found) {
                modules.get(p).setTrainable(true);
                saved.put(p, modules.get(p));
            }
        }
        if (!missing.isEmpty()) {
            throw new ConfigException("lora.modulesToSave " + missing + " matches no module; top-level modules: "
                    + root.children().keySet());
        }
        return new LoraModel(root, config, adapted, saved);
    }

    /** The paths of the linear modules that {@code config} targets; an error lists what exists when nothing fits. */
    public static List<String> matchTargets(Map<String, Module> modules, LoraConfig config) {
        Pattern regex = config.targetRegex() == null ? null : Pattern.compile(config.targetRegex());
        List<String> matched = new ArrayList<>();
        List<String> unmatchedNames = new ArrayList<>(config.targets());
        List<String> notLinear = new ArrayList<>();
        for (Map.Entry<String, Module> e : modules.entrySet()) {
            String path = e.getKey();
            boolean named = false;
            for (String name : config.targets()) {
                if (matchesName(path, name)) {
                    named = true;
                    unmatchedNames.remove(name);
                }
            }
            // a regex filters paths: it takes the linear modules among its matches, while a name must be a linear
            boolean byRegex = regex != null && !path.isEmpty() && regex.matcher(path).matches()
                    && e.getValue() instanceof Linear;
            if (named || byRegex) {
                if (e.getValue() instanceof Linear) {
                    matched.add(path);
                } else {
                    notLinear.add(path + " (" + e.getValue().getClass().getSimpleName() + ")");
                }
            }
        }
        List<String> problems = new ArrayList<>();
        if (!notLinear.isEmpty()) {
            problems.add("lora.target matches modules that are not linear layers: " + notLinear
                    + "; LoRA adapts linear layers only");
        }
        if (!unmatchedNames.isEmpty() || matched.isEmpty()) {
            problems.add("lora.target " + (unmatchedNames.isEmpty() ? config.targets() : unmatchedNames)
                    + (regex == null ? "" : " / regex " + regex) + " matches no linear module; linear modules by name: "
                    + linearNames(modules));
        }
        ConfigException.throwIfAny(problems);
        return matched;
    }

    /** The distinct last names of all linear modules, e.g. [dense, key, query, value, classifier]. */
    public static TreeSet<String> linearNames(Map<String, Module> modules) {
        TreeSet<String> names = new TreeSet<>();
        modules.forEach((p, m) -> {
            if (m instanceof Linear) {
                names.add(lastPart(p));
            }
        });
        return names;
    }

    static boolean matchesName(String path, String name) {
        return path.equals(name) || path.endsWith("." + name);
    }

    private static Module parentOf(Module root, String path) {
        int dot = path.lastIndexOf('.');
        return dot < 0 ? root : root.module(path.substring(0, dot));
    }

    private static String lastPart(String path) {
        return path.substring(path.lastIndexOf('.') + 1);
    }
}
