package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.PackageScope
import org.peft4j.config.ConfigException
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.adalora.OrthRegKind
import org.peft4j.train.TrainConfig

import java.nio.file.Path
import java.util.regex.Pattern

/**
 * {@code adalora { initR 12; targetR 8; tinit 10; tfinal 20; deltaT 5; target 'query', 'value' }}: AdaLoRA
 * (Zhang et al. 2023), a budget of rank triplets that shrinks from initR to targetR per matrix on average.
 */
@CompileStatic
class AdaLoraContext extends Context {

    static final Map<String, OrthRegKind> ORTH_KINDS = [paper: OrthRegKind.PAPER, peft: OrthRegKind.PEFT]

    // the DSL's alpha and dropout match the lora block's, so switching blocks changes only the method
    private final AdaLoraConfig.Builder config = AdaLoraConfig.builder().alpha(16).dropout(0.05)
    private List<String> targets = []
    private String targetRegex
    private int tinit = AdaLoraConfig.AUTO
    private int tfinal = AdaLoraConfig.AUTO
    private int totalSteps

    AdaLoraContext(Origins origins, Path baseDir) {
        super(origins, 'adalora', baseDir)
    }

    /** Triplets per matrix at the start. */
    @Option
    void initR(int r) {
        config.initR(r)
        mark('initR')
    }

    /** Average triplets per matrix at the end; the final budget is targetR × adapted matrices. */
    @Option
    void targetR(int r) {
        config.targetR(r)
        mark('targetR')
    }

    /** Warm-up steps before any pruning; left out: 10% of the run's steps. */
    @Option
    void tinit(int steps) {
        tinit = steps
        config.tinit(steps)
        mark('tinit')
    }

    /** Final steps with the rank mask frozen; left out: 20% of the run's steps. */
    @Option
    void tfinal(int steps) {
        tfinal = steps
        config.tfinal(steps)
        mark('tfinal')
    }

    /** Steps between two budget allocations; left out: the budgeting phase over 20 allocations. */
    @Option
    void deltaT(int steps) {
        config.deltaT(steps)
        mark('deltaT')
    }

    /** EMA factor of the smoothed sensitivity (Eq. 9). */
    @Option
    void beta1(Number b) {
        config.beta1(b.doubleValue())
        mark('beta1')
    }

    /** EMA factor of the uncertainty (Eq. 10). */
    @Option
    void beta2(Number b) {
        config.beta2(b.doubleValue())
        mark('beta2')
    }

    /** γ, the weight of the orthogonal regularizer; 0 turns it off. */
    @Option
    void orthReg(Number gamma) {
        config.orthReg(gamma.doubleValue())
        mark('orthReg')
    }

    /** 'paper' (Eq. 4, squared norms summed) or 'peft' (PEFT's non-squared, averaged norms). */
    @Option
    void orthRegKind(String name) {
        mark('orthRegKind')
        if (ORTH_KINDS.containsKey(name)) {
            config.orthRegKind(ORTH_KINDS[name])
        } else {
            origins.problem("adalora.orthRegKind '${name}' is not valid; use 'paper' or 'peft'".toString())
        }
    }

    /** λ's learning rate over the optimizer's (a parameter group for the singular values). */
    @Option
    void lambdaLrRatio(Number ratio) {
        config.lambdaLrRatio(ratio.doubleValue())
        mark('lambdaLrRatio')
    }

    /** T for the budget schedule; 0 takes the run's optimizer steps. */
    @Option
    void totalSteps(int steps) {
        totalSteps = steps
        config.totalSteps(steps)
        mark('totalSteps')
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
        config.targets(targets)
        mark('target')
    }

    /** A regex over the whole module path. */
    @Option
    void target(Pattern regex) {
        targetRegex = regex.pattern()
        config.targetRegex(targetRegex)
        mark('target')
    }

    @Option
    void modulesToSave(String... names) {
        config.modulesToSave(names.toList())
        mark('modulesToSave')
    }

    /** The config, or null when it is invalid ({@link #problems} then says why). */
    @PackageScope
    AdaLoraConfig build() {
        try {
            config.build()
        } catch (ConfigException ignored) {
            null
        }
    }

    /**
     * The runtime's validation, plus the budgeting phase against {@code train.maxSteps}: with totalSteps 0 the
     * run's steps are only known at run time, but they never exceed maxSteps, so tinit + tfinal >= maxSteps
     * is certain to fail there and is better reported here, at the recipe's line.
     */
    @PackageScope
    List<String> problems(TrainConfig train) {
        List<String> p = []
        if (!targets.isEmpty() && targetRegex != null) {
            p << "adalora.target is given both as names ${targets} and as a regex /${targetRegex}/; keep one".toString()
        }
        try {
            config.build()
        } catch (ConfigException e) {
            p.addAll(e.problems())
        }
        long phases = (long) tinit + tfinal
        if (totalSteps == 0 && train.maxSteps() > 0 && tinit >= 0 && tfinal >= 0 && phases >= train.maxSteps()) {
            p << ("adalora.tinit + adalora.tfinal = ${tinit} + ${tfinal} = ${phases} must be < the run's steps," +
                    " at most train.maxSteps = ${train.maxSteps()}, to leave a budgeting phase; lower tinit or tfinal" +
                    " or raise maxSteps").toString()
        }
        p
    }
}
