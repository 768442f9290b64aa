package org.peft4j.peft.lora;

import ai.djl.ndarray.NDManager;
import org.peft4j.config.ConfigException;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.peft.TargetMatcher;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Puts {@link LoraLinear} adapters in place of the target linears of a model, freezes everything
 * else, and unfreezes the modules to save (and biases, as {@link LoraBias} says). The targets are
 * found by {@link TargetMatcher}, as for every adapter method.
 */
public final class LoraInjector {

    private static final String BLOCK = "lora";

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
     * layout ({@link LinearLayer#fanInFanOut()}) says, and that PiSSA's and OLoRA's rank fits (they
     * take r singular vectors or QR columns, so r cannot pass min(in, out)).
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
            if (config.init().changesBase() && config.rankFor(path) > limit) {
                problems.add("lora.r = " + config.rankFor(path) + " for " + path + " exceeds min(in, out) = " + limit
                        + " of its " + out + "×" + in + " weight, so "
                        + (config.init() == LoraInit.PISSA ? "PiSSA has no top-r SVD" : "OLoRA has no rank-r QR")
                        + "; lower r (or set a rankPattern for " + path + ")");
            }
            if (config.init() == LoraInit.OLORA && inOut && in != out) {
                problems.add(path + " stores its " + out + "×" + in + " weight as [in, out]; PEFT's OLoRA factors the"
                        + " weight as stored, which fits only a square one, so PEFT cannot load this adapter here either;"
                        + " convert it to plain LoRA with PEFT's save_pretrained(path_initial_model_for_weight_conversion=...)");
            }
        }
        ConfigException.throwIfAny(problems);
    }

    /** The modules {@code config} trains in full and saves with the adapter, by path; an error names what matches nothing. */
    public static Map<String, Module> modulesToSave(Module root, LoraConfig config) {
        return TargetMatcher.modulesToSave(root, config.modulesToSave(), List.of(), BLOCK);
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
        return TargetMatcher.withoutSaved(TargetMatcher.match(modules, config.targeting(), BLOCK), config.modulesToSave());
    }

    /** The layer index in {@code path} as PEFT finds it, or null. */
    static Integer layerIndex(String path, List<String> patterns) {
        return TargetMatcher.layerIndex(path, patterns);
    }

    /** The layer whose weight an adapter at this module updates: the base of an adapted layer, or the module. */
    static Module baseOf(Module m) {
        return TargetMatcher.baseOf(m);
    }

    static Module parentOf(Module root, String path) {
        return TargetMatcher.parentOf(root, path);
    }

    static String lastPart(String path) {
        return TargetMatcher.lastPart(path);
    }
}
