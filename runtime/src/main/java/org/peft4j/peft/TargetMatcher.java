package org.peft4j.peft;

import org.peft4j.config.ConfigException;
import org.peft4j.nn.Linear;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the modules an adapter goes into and the modules it trains in full, for every adapter
 * method. Matching follows PEFT's {@code check_target_module_exists}: a target name matches a
 * module path that equals it or ends with {@code "." + name}; a regex must match the whole path,
 * and adapts the linear modules among the paths it matches; {@code exclude} and
 * {@code layersToTransform} then filter the matches. Errors name the recipe block ({@code lora},
 * {@code adalora}) and list what exists.
 */
public final class TargetMatcher {

    /** The output heads that {@code allLinear} leaves alone, as PEFT leaves the output layer. */
    public static final Set<String> OUTPUT_HEADS = Set.of("classifier", "lm_head", "score");

    private TargetMatcher() {
    }

    /**
     * A layer inside a classification head ({@code classifier.dense}, {@code classifier.out_proj}) is trained in
     * full with its head, never adapted: PEFT keeps the head in {@code modules_to_save} for sequence
     * classification and leaves the layers inside it out of {@code target_modules} and {@code all-linear}.
     */
    static boolean insideOutputHead(String path) {
        String[] parts = path.split("\\.");
        for (int i = 0; i < parts.length - 1; i++) {
            if (OUTPUT_HEADS.contains(parts[i])) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code targets} without the layers inside a module to save (or that module itself): a module trained in
     * full is not also adapted, as PEFT leaves {@code modules_to_save} out of {@code target_modules} and
     * {@code all-linear}.
     */
    public static List<String> withoutSaved(List<String> targets, Collection<String> modulesToSave) {
        if (modulesToSave.isEmpty()) {
            return targets;
        }
        List<String> kept = new ArrayList<>();
        for (String path : targets) {
            boolean saved = false;
            for (String prefix = path; prefix != null && !saved; prefix = parentPath(prefix)) {
                for (String name : modulesToSave) {
                    saved |= matchesName(prefix, name);
                }
            }
            if (!saved) {
                kept.add(path);
            }
        }
        return kept;
    }

    private static String parentPath(String path) {
        int dot = path.lastIndexOf('.');
        return dot < 0 ? null : path.substring(0, dot);
    }

    /** The paths of the linear modules that {@code spec} targets; an error lists what exists when nothing fits. */
    public static List<String> match(Map<String, Module> modules, TargetSpec spec, String block) {
        if (spec.choosesNone()) {
            boolean ada = block.equals("adalora");
            throw new ConfigException(List.of(block + ".target is missing: name the modules to adapt, e.g. target 'query',"
                    + " 'value'" + (ada ? "" : ", or use allLinear()") + "; a recipe gets its model family's defaults, a"
                    + " config built in code gets them from withDefaultTargets(family."
                    + (ada ? "adaLoraTargets" : "loraTargets") + "())"));
        }
        Pattern regex = spec.regex() == null ? null : Pattern.compile(spec.regex());
        Pattern exclude = spec.excludeRegex() == null ? null : Pattern.compile(spec.excludeRegex());
        List<String> matched = new ArrayList<>();
        List<String> filteredOut = new ArrayList<>();
        List<String> unmatchedNames = new ArrayList<>(spec.names());
        List<String> notLinear = new ArrayList<>();
        for (Map.Entry<String, Module> e : modules.entrySet()) {
            String path = e.getKey();
            if (path.isEmpty() || insideAdapter(modules, path) || insideOutputHead(path)) {
                continue;
            }
            boolean linear = isLinear(e.getValue());
            boolean named = false;
            for (String name : spec.names()) {
                if (matchesName(path, name)) {
                    named = true;
                    unmatchedNames.remove(name);
                }
            }
            // a regex filters paths: it takes the linear modules among its matches, while a name must be a linear
            boolean byRegex = regex != null && regex.matcher(path).matches() && linear;
            boolean byAll = spec.allLinear() && linear && !OUTPUT_HEADS.contains(lastPart(path));
            if (!(named || byRegex || byAll)) {
                continue;
            }
            if (!linear) {
                notLinear.add(path + " (" + e.getValue().getClass().getSimpleName() + ")");
            } else if (excluded(path, spec, exclude) || !inLayers(path, spec)) {
                filteredOut.add(path);
            } else {
                matched.add(path);
            }
        }
        List<String> problems = new ArrayList<>();
        String method = block.equals("adalora") ? "AdaLoRA" : "LoRA";
        if (!notLinear.isEmpty()) {
            problems.add(block + ".target matches modules that are not linear layers: " + notLinear
                    + "; " + method + " adapts linear layers only");
        }
        if (!unmatchedNames.isEmpty() || matched.isEmpty()) {
            String what = spec.allLinear() ? block + ".allLinear"
                    : block + ".target " + (unmatchedNames.isEmpty() ? spec.names() : unmatchedNames)
                    + (regex == null ? "" : " / regex " + regex);
            problems.add(what + " matches no linear module"
                    + (filteredOut.isEmpty() || !unmatchedNames.isEmpty() ? ""
                    : " left after exclude / layersToTransform (they removed " + filteredOut + ")")
                    + "; linear modules by name: " + linearNames(modules));
        }
        ConfigException.throwIfAny(problems);
        return matched;
    }

    /**
     * The modules trained in full and saved with the adapter, by path. A name that matches nothing
     * is an error naming the top-level modules, unless it is among {@code optional} (the heads PEFT
     * adds by task type, such as {@code score} for a model whose head is {@code classifier}).
     */
    public static Map<String, Module> modulesToSave(Module root, Collection<String> names, Collection<String> optional,
                                                    String block) {
        Map<String, Module> modules = root.namedModules();
        Map<String, Module> saved = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String name : names) {
            List<String> found = modules.keySet().stream().filter(p -> !p.isEmpty() && matchesName(p, name)).toList();
            if (found.isEmpty() && !optional.contains(name) && !missing.contains(name)) {
                missing.add(name);
            }
            found.forEach(p -> saved.put(p, modules.get(p)));
        }
        if (!missing.isEmpty()) {
            throw new ConfigException(block + ".modulesToSave " + missing + " matches no module; top-level modules: "
                    + root.children().keySet());
        }
        return saved;
    }

    /** Paths below an adapted layer (its base_layer, lora_A, lora_B) are the adapter's own, never targets. */
    private static boolean insideAdapter(Map<String, Module> modules, String path) {
        int dot = path.lastIndexOf('.');
        while (dot > 0) {
            if (modules.get(path.substring(0, dot)) instanceof AdapterLayer) {
                return true;
            }
            dot = path.lastIndexOf('.', dot - 1);
        }
        return false;
    }

    private static boolean excluded(String path, TargetSpec spec, Pattern exclude) {
        for (String name : spec.exclude()) {
            if (matchesName(path, name)) {
                return true;
            }
        }
        return exclude != null && exclude.matcher(path).matches();
    }

    /**
     * PEFT's layer filter ({@code check_target_module_exists}): the index after a layer-list name
     * must be one of {@code layersToTransform}; a path without one is left out. Without
     * {@code layersPattern} any name followed by an index counts ({@code .*\.[^.]*\.(\d+)\.},
     * the last such index); with it, only those names ({@code .*\.<pattern>\.(\d+)\.}).
     */
    private static boolean inLayers(String path, TargetSpec spec) {
        if (spec.layersToTransform().isEmpty()) {
            return true;
        }
        Integer index = layerIndex(path, spec.layersPattern());
        return index != null && spec.layersToTransform().contains(index);
    }

    /** The layer index in {@code path} as PEFT finds it, or null. */
    public static Integer layerIndex(String path, List<String> patterns) {
        List<String> regexes = patterns.isEmpty() ? List.of(".*\\.[^.]*\\.(\\d+)\\.")
                : patterns.stream().map(p -> ".*\\.(?:" + p + ")\\.(\\d+)\\.").toList();
        for (String regex : regexes) {
            Matcher m = Pattern.compile(regex).matcher(path);
            if (m.lookingAt()) {
                return Integer.parseInt(m.group(1));
            }
        }
        return null;
    }

    /** The distinct last names of all linear modules, e.g. [dense, key, query, value, classifier]. */
    public static TreeSet<String> linearNames(Map<String, Module> modules) {
        TreeSet<String> names = new TreeSet<>();
        modules.forEach((p, m) -> {
            if (isLinear(m) && !insideAdapter(modules, p)) {
                names.add(lastPart(p));
            }
        });
        return names;
    }

    /** Linear-like: an adapted layer, or a {@link LinearLayer} with a 2-D weight ({@link Linear}, or a Conv1D-style layer). */
    public static boolean isLinear(Module m) {
        if (m instanceof AdapterLayer) {
            return true;
        }
        Parameter w = m.parameters().get("weight");
        return m instanceof LinearLayer && w != null && w.value().getShape().dimension() == 2;
    }

    /** The layer whose weight an adapter at this module updates: the base of an adapted layer, or the module. */
    public static Module baseOf(Module m) {
        return m instanceof AdapterLayer l ? l.baseLayer() : m;
    }

    /** PEFT's name rule: the whole path, or its last dotted part(s). */
    public static boolean matchesName(String path, String name) {
        return path.equals(name) || path.endsWith("." + name);
    }

    /** The module that holds {@code path} as a child ({@code root} for a top-level path). */
    public static Module parentOf(Module root, String path) {
        int dot = path.lastIndexOf('.');
        return dot < 0 ? root : root.module(path.substring(0, dot));
    }

    /** The child name of {@code path} inside its parent. */
    public static String lastPart(String path) {
        return path.substring(path.lastIndexOf('.') + 1);
    }
}
