package org.peft4j.peft.lora;

import org.peft4j.peft.AdapterConfig;
import org.peft4j.peft.PeftType;
import org.peft4j.peft.TargetSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * LoRA settings (Hu et al. 2021): ΔW = s · B A with A: r×in, B: out×r and s = α / r (or α / √r
 * with rsLoRA). Field names follow Hugging Face PEFT's {@code LoraConfig}; {@link LoraConfigJson}
 * writes and reads them under PEFT's names. Build one with {@link #builder()}; the 6-argument
 * constructor and {@link #of} keep the defaults for everything else.
 *
 * @param r                 rank of the update
 * @param alpha             scaling numerator
 * @param dropout           dropout on the adapter's input (0 adds no op)
 * @param targets           module names matched as the whole path or its last dotted part(s)
 * @param targetRegex       alternatively, a regex matched against the whole module path (null when unused)
 * @param modulesToSave     modules trained fully and saved with the adapter (e.g. the {@code classifier} head)
 * @param allLinear         adapt every linear layer except the output head (PEFT's {@code "all-linear"})
 * @param exclude           module names (whole path or dotted suffix) never adapted
 * @param excludeRegex      a regex over the whole path of modules never adapted (null when unused)
 * @param rsLora            scale by α / √r (Kalajdzievski 2023, rank-stabilised LoRA) instead of α / r
 * @param rankPattern       per-module rank overrides; a key matches a path that equals it or ends with
 *                          {@code "." + key}, the key read as a regex (PEFT's {@code get_pattern_key})
 * @param alphaPattern      per-module alpha overrides, matched the same way
 * @param layersToTransform only adapt modules inside these layer indices (empty: all layers)
 * @param layersPattern     names of the layer list that carries the index (empty: any name followed by an
 *                          index, as PEFT does when {@code layers_pattern} is unset)
 * @param bias              which biases train with the adapter
 * @param init              how A and B start
 * @param fanInFanOut       PEFT's {@code fan_in_fan_out}: the base layers store their weight as [in, out]
 *                          (GPT-2's Conv1D). Each layer's own layout ({@code LinearLayer.fanInFanOut()})
 *                          wins, with a warning, as in PEFT; the field is kept so that PEFT's files round-trip
 * @param useDora           weight-decomposed LoRA (Liu et al. 2024): a trained magnitude per output
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targets, String targetRegex,
                         List<String> modulesToSave, boolean allLinear, List<String> exclude, String excludeRegex,
                         boolean rsLora, Map<String, Integer> rankPattern, Map<String, Double> alphaPattern,
                         List<Integer> layersToTransform, List<String> layersPattern, LoraBias bias, LoraInit init,
                         boolean fanInFanOut, boolean useDora) implements AdapterConfig {

    public LoraConfig {
        targets = targets == null ? List.of() : List.copyOf(targets);
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
        exclude = exclude == null ? List.of() : List.copyOf(exclude);
        rankPattern = rankPattern == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(rankPattern));
        alphaPattern = alphaPattern == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(alphaPattern));
        layersToTransform = layersToTransform == null ? List.of() : List.copyOf(layersToTransform);
        layersPattern = layersPattern == null ? List.of() : List.copyOf(layersPattern);
        bias = bias == null ? LoraBias.NONE : bias;
        init = init == null ? LoraInit.KAIMING_UNIFORM : init;
    }

    /** The original six settings; everything else at PEFT's defaults. */
    public LoraConfig(int r, double alpha, double dropout, List<String> targets, String targetRegex,
                      List<String> modulesToSave) {
        this(r, alpha, dropout, targets, targetRegex, modulesToSave, false, List.of(), null, false, Map.of(),
                Map.of(), List.of(), List.of(), LoraBias.NONE, LoraInit.KAIMING_UNIFORM, false, false);
    }

    public static LoraConfig of(int r, double alpha, double dropout, List<String> targets, List<String> modulesToSave) {
        return new LoraConfig(r, alpha, dropout, targets, null, modulesToSave);
    }

    public static LoraConfigBuilder builder() {
        return new LoraConfigBuilder();
    }

    /** A builder that starts from this configuration. */
    public LoraConfigBuilder toBuilder() {
        return new LoraConfigBuilder(this);
    }

    /**
     * This configuration, or, when it names no targets (no names, regex or allLinear), the same with
     * {@code defaults}: the model family's default targets, as PEFT fills an empty target_modules.
     */
    public LoraConfig withDefaultTargets(List<String> defaults) {
        return targeting().choosesNone() ? toBuilder().targets(defaults).build() : this;
    }

    @Override
    public PeftType peftType() {
        return PeftType.LORA;
    }

    /** Targets, regex, allLinear and the exclude / layer filters, as {@link org.peft4j.peft.TargetMatcher} reads them. */
    @Override
    public TargetSpec targeting() {
        return new TargetSpec(targets, targetRegex, allLinear, exclude, excludeRegex, layersToTransform, layersPattern);
    }

    /** The scaling for the base rank and alpha: α / r, or α / √r with rsLoRA. */
    public double scaling() {
        return scaling(r, alpha);
    }

    /** The scaling for a module's (possibly overridden) rank and alpha. */
    public double scaling(int rank, double a) {
        return rsLora ? a / Math.sqrt(rank) : a / rank;
    }

    /** The rank for the module at {@code path}: the first matching rank pattern, else r. */
    public int rankFor(String path) {
        String key = patternKey(rankPattern.keySet(), path);
        return key == null ? r : rankPattern.get(key);
    }

    /** The alpha for the module at {@code path}: the first matching alpha pattern, else alpha. */
    public double alphaFor(String path) {
        String key = patternKey(alphaPattern.keySet(), path);
        return key == null ? alpha : alphaPattern.get(key);
    }

    /** PEFT's {@code get_pattern_key}: the first key with {@code re.match(rf"(.*\.)?({key})$", path)}. */
    static String patternKey(Iterable<String> keys, String path) {
        for (String key : keys) {
            if (Pattern.compile("(.*\\.)?(" + key + ")").matcher(path).matches()) {
                return key;
            }
        }
        return null;
    }

    /** Every problem with this configuration, each naming the field, the value and the fix. */
    public List<String> validate() {
        List<String> p = new ArrayList<>();
        if (r < 1) {
            p.add("lora.r = " + r + " must be >= 1 (typical: 4, 8, 16)");
        }
        if (!(alpha > 0)) {
            p.add("lora.alpha = " + alpha + " must be > 0 (typical: 2 × r)");
        }
        if (!(dropout >= 0 && dropout < 1)) {
            p.add("lora.dropout = " + dropout + " must be in [0, 1) (typical: 0.05–0.1)");
        }
        if (targets.isEmpty() && targetRegex == null && !allLinear) {
            p.add("lora.target is missing: name the modules to adapt, e.g. target 'query', 'value', or use allLinear()");
        }
        if (allLinear && (!targets.isEmpty() || targetRegex != null)) {
            p.add("lora.allLinear = true together with targets " + targets
                    + (targetRegex == null ? "" : " / regex " + targetRegex) + ": choose one; allLinear already adapts every linear but the head");
        }
        regex(p, "lora.target", targetRegex);
        regex(p, "lora.exclude", excludeRegex);
        rankPattern.forEach((k, v) -> {
            regex(p, "lora.rankPattern key", k);
            if (v == null || v < 1) {
                p.add("lora.rankPattern['" + k + "'] = " + v + " must be >= 1");
            }
        });
        alphaPattern.forEach((k, v) -> {
            regex(p, "lora.alphaPattern key", k);
            if (v == null || !(v > 0)) {
                p.add("lora.alphaPattern['" + k + "'] = " + v + " must be > 0");
            }
        });
        for (Integer i : layersToTransform) {
            if (i == null || i < 0) {
                p.add("lora.layersToTransform contains " + i + "; layer indices are >= 0");
            }
        }
        if (!layersPattern.isEmpty() && layersToTransform.isEmpty()) {
            p.add("lora.layersPattern = " + layersPattern + " has no effect without layersToTransform; set both or neither");
        }
        layersPattern.forEach(lp -> regex(p, "lora.layersPattern", lp));
        if (useDora && init == LoraInit.PISSA) {
            p.add("lora.init = PISSA with useDora = true: PEFT does not combine them; choose one");
        }
        return p;
    }

    private static void regex(List<String> p, String field, String regex) {
        if (regex == null) {
            return;
        }
        try {
            Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            p.add(field + " regex '" + regex + "' does not compile: " + e.getDescription());
        }
    }
}
