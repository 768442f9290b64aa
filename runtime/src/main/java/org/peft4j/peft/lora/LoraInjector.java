package org.peft4j.peft.lora;

import ai.djl.ndarray.NDManager;
import org.peft4j.config.ConfigException;
import org.peft4j.nn.Linear;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts {@link LoraLinear} adapters in place of the target linears of a model, freezes everything
 * else, and unfreezes the modules to save (and biases, as {@link LoraBias} says). Matching follows
 * Hugging Face PEFT's {@code check_target_module_exists}: a target name matches a module path that
 * equals it or ends with {@code "." + name}; a regex must match the whole path, and adapts the
 * linear modules among the paths it matches; {@code exclude} and {@code layersToTransform} then
 * filter the matches.
 */
public final class LoraInjector {

    /** The output heads that {@code allLinear} leaves alone, as PEFT leaves the output layer. */
    public static final Set<String> OUTPUT_HEADS = Set.of("classifier", "lm_head", "score");

    private static final System.Logger LOG = System.getLogger(LoraInjector.class.getName());

    private LoraInjector() {
    }

    /** Injects the adapter {@value LoraLinear#DEFAULT}. */
    public static LoraModel inject(Module root, LoraConfig config, NDManager manager) {
        ConfigException.throwIfAny(config.validate());
        // every check that can fail runs before the model is touched
        LoraInjector.matchTargets(root.namedModules(), config);
        Map<String, Module> saved = modulesToSave(root, config);
        root.setTrainable(false);
        Map<String, LoraLinear> adapted = addAdapter(root, LoraLinear.DEFAULT, config, manager);
        LoraModel model = new LoraModel(root, manager, LoraLinear.DEFAULT, recorded(config, adapted), adapted, saved);
        model.markTrainable();
        return model;
    }

    /**
     * Adds the named adapter to the target layers (wrapping plain linears, or adding to layers that
     * already carry another adapter) and returns the layers it went into, by path.
     */
    static Map<String, LoraLinear> addAdapter(Module root, String name, LoraConfig config, NDManager manager) {
        ConfigException.throwIfAny(config.validate());
        Map<String, Module> modules = root.namedModules();
        List<String> targets = matchTargets(modules, config);
        checkLayers(modules, targets, config);
        warnOfLayout(modules, targets, config);
        Map<String, LoraLinear> adapted = new LinkedHashMap<>();
        for (String path : targets) {
            Module m = modules.get(path);
            Module base = baseOf(m);
            // the layer knows how its weight is stored; the config's fanInFanOut cannot overrule it (see warnOfLayout)
            boolean fanInFanOut = ((LinearLayer) base).fanInFanOut();
            int r = config.rankFor(path);
            double alpha = config.alphaFor(path);
            LoraAdapter adapter = LoraAdapter.create(name, (LinearLayer) base, base.parameters().get("weight"),
                    fanInFanOut, r, alpha, config.scaling(r, alpha), config.dropout(), config.init(),
                    config.useDora(), manager);
            LoraLinear layer;
            if (m instanceof LoraLinear l) {
                l.addAdapter(adapter);
                layer = l;
            } else {
                layer = new LoraLinear(base, fanInFanOut, adapter);
                parentOf(root, path).replaceChild(lastPart(path), layer);
            }
            adapted.put(path, layer);
        }
        return adapted;
    }

    /**
     * PEFT, finding a Conv1D under {@code fan_in_fan_out = false} (or a Linear under true), warns,
     * uses the layer's layout and sets the field to it. We take each layer's layout from the layer
     * as well, rather than refuse: there is one right value per layer and the layer knows it, a
     * single flag cannot describe a model that mixes the two layouts, and PEFT's files load as PEFT
     * loads them. The warning stays, so a recipe that says otherwise learns it is being overruled.
     */
    private static void warnOfLayout(Map<String, Module> modules, List<String> targets, LoraConfig config) {
        List<String> overruled = targets.stream()
                .filter(p -> ((LinearLayer) baseOf(modules.get(p))).fanInFanOut() != config.fanInFanOut()).toList();
        if (!overruled.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "lora.fanInFanOut = {0}, but {1} store their weight as {2};"
                    + " using the layers'' layout, as PEFT does", config.fanInFanOut(), overruled,
                    config.fanInFanOut() ? "[out, in]" : "[in, out] (GPT-2's Conv1D)");
        }
    }

    /**
     * The config to record (and save) for an adapter on {@code layers}: when they all store their
     * weight one way, fanInFanOut says that way, as the file PEFT writes after its warning says.
     */
    static LoraConfig recorded(LoraConfig config, Map<String, LoraLinear> layers) {
        boolean allInOut = !layers.isEmpty() && layers.values().stream().allMatch(LoraLinear::fanInFanOut);
        boolean noneInOut = layers.values().stream().noneMatch(LoraLinear::fanInFanOut);
        if (allInOut && !config.fanInFanOut()) {
            return config.toBuilder().fanInFanOut(true).build();
        }
        if (noneInOut && config.fanInFanOut()) {
            return config.toBuilder().fanInFanOut(false).build();
        }
        return config;
    }

    /**
     * Checks, for every target before any is touched, that the weight has the shape its layer's
     * layout ({@link LinearLayer#fanInFanOut()}) says, and that PiSSA's rank fits (it takes r
     * singular vectors, so r cannot pass min(in, out)).
     */
    static void checkLayers(Map<String, Module> modules, List<String> targets, LoraConfig config) {
        List<String> problems = new ArrayList<>();
        for (String path : targets) {
            Module m = modules.get(path);
            LinearLayer base = (LinearLayer) baseOf(m);
            long[] w = baseOf(m).parameters().get("weight").value().getShape().getShape();
            long in = base.inFeatures();
            long out = base.outFeatures();
            boolean inOut = base.fanInFanOut();
            if (!(inOut ? w[0] == in && w[1] == out : w[0] == out && w[1] == in)) {
                problems.add(path + " (" + baseOf(m).getClass().getSimpleName() + ", " + in + " → " + out + ") says its weight"
                        + " is stored " + (inOut ? "[in, out]" : "[out, in]") + " but it is " + java.util.Arrays.toString(w)
                        + "; its fanInFanOut() is wrong");
            }
            long limit = Math.min(in, out);
            if (config.init() == LoraInit.PISSA && config.rankFor(path) > limit) {
                problems.add("lora.r = " + config.rankFor(path) + " for " + path + " exceeds min(in, out) = " + limit
                        + " of its " + out + "×" + in + " weight, so PiSSA has no top-r SVD;"
                        + " lower r (or set a rankPattern for " + path + ")");
            }
        }
        ConfigException.throwIfAny(problems);
    }

    /** The modules {@code config} trains in full and saves with the adapter, by path; an error names what matches nothing. */
    public static Map<String, Module> modulesToSave(Module root, LoraConfig config) {
        Map<String, Module> modules = root.namedModules();
        Map<String, Module> saved = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String name : config.modulesToSave()) {
            List<String> found = modules.keySet().stream().filter(p -> matchesName(p, name)).toList();
            if (found.isEmpty()) {
                missing.add(name);
            }
            found.forEach(p -> saved.put(p, modules.get(p)));
        }
        if (!missing.isEmpty()) {
            throw new ConfigException("lora.modulesToSave " + missing + " matches no module; top-level modules: "
                    + root.children().keySet());
        }
        return saved;
    }

    /** The biases that train and are saved with the adapter, by path, as {@link LoraBias} says. */
    static Map<String, Parameter> trainedBiases(Module root, LoraBias bias, Map<String, LoraLinear> layers) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        if (bias == LoraBias.ALL) {
            root.namedParameters().forEach((p, v) -> {
                if (lastPart(p).equals("bias")) {
                    out.put(p, v);
                }
            });
        } else if (bias == LoraBias.LORA_ONLY) {
            layers.forEach((p, l) -> {
                if (l.baseBias() != null) {
                    out.put(p + ".base_layer.bias", l.baseBias());
                }
            });
        }
        return out;
    }

    /** The paths of the linear modules that {@code config} targets; an error lists what exists when nothing fits. */
    public static List<String> matchTargets(Map<String, Module> modules, LoraConfig config) {
        Pattern regex = config.targetRegex() == null ? null : Pattern.compile(config.targetRegex());
        Pattern exclude = config.excludeRegex() == null ? null : Pattern.compile(config.excludeRegex());
        List<String> matched = new ArrayList<>();
        List<String> filteredOut = new ArrayList<>();
        List<String> unmatchedNames = new ArrayList<>(config.targets());
        List<String> notLinear = new ArrayList<>();
        for (Map.Entry<String, Module> e : modules.entrySet()) {
            String path = e.getKey();
            if (path.isEmpty() || insideAdapter(modules, path)) {
                continue;
            }
            boolean linear = isLinear(e.getValue());
            boolean named = false;
            for (String name : config.targets()) {
                if (matchesName(path, name)) {
                    named = true;
                    unmatchedNames.remove(name);
                }
            }
            // a regex filters paths: it takes the linear modules among its matches, while a name must be a linear
            boolean byRegex = regex != null && regex.matcher(path).matches() && linear;
            boolean byAll = config.allLinear() && linear && !OUTPUT_HEADS.contains(lastPart(path));
            if (!(named || byRegex || byAll)) {
                continue;
            }
            if (!linear) {
                notLinear.add(path + " (" + e.getValue().getClass().getSimpleName() + ")");
            } else if (excluded(path, config, exclude) || !inLayers(path, config)) {
                filteredOut.add(path);
            } else {
                matched.add(path);
            }
        }
        List<String> problems = new ArrayList<>();
        if (!notLinear.isEmpty()) {
            problems.add("lora.target matches modules that are not linear layers: " + notLinear
                    + "; LoRA adapts linear layers only");
        }
        if (!unmatchedNames.isEmpty() || matched.isEmpty()) {
            String what = config.allLinear() ? "lora.allLinear"
                    : "lora.target " + (unmatchedNames.isEmpty() ? config.targets() : unmatchedNames)
                    + (regex == null ? "" : " / regex " + regex);
            problems.add(what + " matches no linear module"
                    + (filteredOut.isEmpty() || !unmatchedNames.isEmpty() ? ""
                    : " left after exclude / layersToTransform (they removed " + filteredOut + ")")
                    + "; linear modules by name: " + linearNames(modules));
        }
        ConfigException.throwIfAny(problems);
        return matched;
    }

    /** Paths below an adapted layer (its base_layer, lora_A, lora_B) are the adapter's own, never targets. */
    private static boolean insideAdapter(Map<String, Module> modules, String path) {
        int dot = path.lastIndexOf('.');
        while (dot > 0) {
            if (modules.get(path.substring(0, dot)) instanceof LoraLinear) {
                return true;
            }
            dot = path.lastIndexOf('.', dot - 1);
        }
        return false;
    }

    private static boolean excluded(String path, LoraConfig config, Pattern exclude) {
        for (String name : config.exclude()) {
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
    private static boolean inLayers(String path, LoraConfig config) {
        if (config.layersToTransform().isEmpty()) {
            return true;
        }
        Integer index = layerIndex(path, config.layersPattern());
        return index != null && config.layersToTransform().contains(index);
    }

    /** The layer index in {@code path} as PEFT finds it, or null. */
    static Integer layerIndex(String path, List<String> patterns) {
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
    static boolean isLinear(Module m) {
        if (m instanceof LoraLinear) {
            return true;
        }
        Parameter w = m.parameters().get("weight");
        return m instanceof LinearLayer && w != null && w.value().getShape().dimension() == 2;
    }

    /** The layer whose weight an adapter at this module updates: the base of an adapted layer, or the module. */
    static Module baseOf(Module m) {
        return m instanceof LoraLinear l ? l.baseLayer() : m;
    }

    static boolean matchesName(String path, String name) {
        return path.equals(name) || path.endsWith("." + name);
    }

    static Module parentOf(Module root, String path) {
        int dot = path.lastIndexOf('.');
        return dot < 0 ? root : root.module(path.substring(0, dot));
    }

    static String lastPart(String path) {
        return path.substring(path.lastIndexOf('.') + 1);
    }
}
