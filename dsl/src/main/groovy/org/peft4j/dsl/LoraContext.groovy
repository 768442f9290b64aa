package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.PackageScope
import org.peft4j.peft.lora.LoraBias
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraConfigBuilder
import org.peft4j.peft.lora.LoraInit

import java.nio.file.Path
import java.util.regex.Pattern

/**
 * {@code lora { r 8; alpha 16; dropout 0.05; target 'query', 'value'; modulesToSave 'classifier' }}, plus
 * PEFT's other LoRA options ({@code rsLora}, {@code useDora}, {@code init}, {@code bias}, rank and alpha
 * patterns, {@code exclude}, {@code allLinear()}, layer selection, {@code fanInFanOut}).
 */
@CompileStatic
class LoraContext extends Context {

    static final Map<String, LoraInit> INITS = [kaiming: LoraInit.KAIMING_UNIFORM, gaussian: LoraInit.GAUSSIAN,
                                                pissa  : LoraInit.PISSA]
    static final Map<String, LoraBias> BIASES = [none: LoraBias.NONE, all: LoraBias.ALL, loraOnly: LoraBias.LORA_ONLY]

    // the DSL's defaults differ from PEFT's (alpha 8, dropout 0): these are the quickstart's values
    private final LoraConfigBuilder config = LoraConfig.builder().r(8).alpha(16).dropout(0.05)
    private List<String> targets = []
    private String targetRegex

    LoraContext(Origins origins, Path baseDir) {
        super(origins, 'lora', baseDir)
    }

    @Option
    void r(int rank) {
        config.r(rank)
        mark('r')
    }

    @Option
    void alpha(Number value) {
        config.alpha(value.doubleValue())
        mark('alpha')
    }

    @Option
    void dropout(Number value) {
        config.dropout(value.doubleValue())
        mark('dropout')
    }

    /**
     * Module names, matched against the last dotted parts of a module path. Without a target the block
     * adapts the model family's default targets (PEFT's for the model_type; docs/models.md lists them).
     */
    @Option
    void target(String... names) {
        targets = names.toList()
        config.targets(targets).allLinear(false)
        mark('target')
    }

    /** A regex over the whole module path, e.g. {@code ~/.*\.(query|value)/}. */
    @Option
    void target(Pattern regex) {
        targetRegex = regex.pattern()
        config.targetRegex(targetRegex).allLinear(false)
        mark('target')
    }

    /**
     * Every linear layer but the output head (PEFT's {@code "all-linear"}). It is a choice of target, so it
     * replaces named targets, as a recipe that starts {@code from} one with {@code target 'query', 'value'} expects.
     */
    @Option
    void allLinear() {
        targets = []
        targetRegex = null
        config.targets([]).targetRegex(null).allLinear()
        mark('target')
    }

    @Option
    void modulesToSave(String... names) {
        config.modulesToSave(names.toList())
        mark('modulesToSave')
    }

    /** Modules (names or dotted suffixes) never adapted, even when a target or allLinear matches them. */
    @Option
    void exclude(String... names) {
        config.exclude(names.toList())
        mark('exclude')
    }

    /** A regex over the whole path of modules never adapted. */
    @Option
    void exclude(Pattern regex) {
        config.excludeRegex(regex.pattern())
        mark('exclude')
    }

    /** Scale the update by α / √r instead of α / r (rank-stabilised LoRA). */
    @Option
    void rsLora(boolean on) {
        config.rsLora(on)
        mark('rsLora')
    }

    /** Weight-decomposed LoRA: a trained magnitude per output row besides the low-rank direction. */
    @Option
    void useDora(boolean on) {
        config.useDora(on)
        mark('useDora')
    }

    /** How A and B start: kaiming (B = 0), gaussian (B = 0) or pissa (top-r SVD of W). */
    @Option
    void init(String name) {
        mark('init')
        if (INITS.containsKey(name)) {
            config.init(INITS[name])
        } else {
            origins.problem("lora.init '${name}' is not valid; use ${INITS.keySet().collect { "'${it}'" }.join(', ')}".toString())
        }
    }

    /** Which biases train: none, all, or loraOnly (those of adapted layers). */
    @Option
    void bias(String name) {
        mark('bias')
        if (BIASES.containsKey(name)) {
            config.bias(BIASES[name])
        } else {
            origins.problem("lora.bias '${name}' is not valid; use ${BIASES.keySet().collect { "'${it}'" }.join(', ')}".toString())
        }
    }

    /** Per-module ranks: {@code rankPattern 'query': 16, (~/.*value/): 4}; keys are names or regexes over a path's end. */
    @Option
    void rankPattern(Map<?, ?> ranks) {
        mark('rankPattern')
        Map<String, Integer> m = [:]
        ranks.each { Object k, Object v -> m[key(k)] = v instanceof Number ? ((Number) v).intValue() : wrongValue('rankPattern', k, v) as Integer }
        config.rankPattern(m)
    }

    /** Per-module alphas, keyed as {@link #rankPattern}. */
    @Option
    void alphaPattern(Map<?, ?> alphas) {
        mark('alphaPattern')
        Map<String, Double> m = [:]
        alphas.each { Object k, Object v -> m[key(k)] = v instanceof Number ? ((Number) v).doubleValue() : wrongValue('alphaPattern', k, v) as Double }
        config.alphaPattern(m)
    }

    /** Only adapt modules inside these layer indices. */
    @Option
    void layersToTransform(int... layers) {
        config.layersToTransform(layers.toList())
        mark('layersToTransform')
    }

    /** The name of the layer list that carries the index for {@code layersToTransform} (e.g. 'layer'). */
    @Option
    void layersPattern(String... names) {
        config.layersPattern(names.toList())
        mark('layersPattern')
    }

    /** The base layers store their weight as [in, out] (GPT-2's Conv1D). */
    @Option
    void fanInFanOut(boolean on) {
        config.fanInFanOut(on)
        mark('fanInFanOut')
    }

    @PackageScope
    LoraConfig build() {
        config.build()
    }

    /** Problems only the DSL can see: the runtime accepts names and a regex together, a recipe should not. */
    @PackageScope
    List<String> problems() {
        !targets.isEmpty() && targetRegex != null
                ? ["lora.target is given both as names ${targets} and as a regex /${targetRegex}/; keep one".toString()]
                : []
    }

    private static String key(Object k) {
        k instanceof Pattern ? ((Pattern) k).pattern() : String.valueOf(k)
    }

    private Object wrongValue(String option, Object k, Object v) {
        origins.problem("lora.${option}['${key(k)}'] = ${v} is not a number; write e.g. ${option} '${key(k)}': 4".toString())
        null
    }
}
