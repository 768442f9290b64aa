package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.PackageScope
import org.peft4j.peft.lora.LoraConfig

import java.nio.file.Path
import java.util.regex.Pattern

/** {@code lora { r 8; alpha 16; dropout 0.05; target 'query', 'value'; modulesToSave 'classifier' }} */
@CompileStatic
class LoraContext extends Context {

    private int r = 8
    private double alpha = 16
    private double dropout = 0.05
    private List<String> targets = []
    private String targetRegex
    private List<String> modulesToSave = []

    LoraContext(Origins origins, Path baseDir) {
        super(origins, 'lora', baseDir)
    }

    @Option
    void r(int rank) {
        r = rank
        mark('r')
    }

    @Option
    void alpha(Number value) {
        alpha = value.doubleValue()
        mark('alpha')
    }

    @Option
    void dropout(Number value) {
        dropout = value.doubleValue()
        mark('dropout')
    }

    /** Module names, matched against the last dotted parts of a module path. */
    @Option
    void target(String... names) {
        targets = names.toList()
        mark('target')
    }

    /** A regex over the whole module path, e.g. {@code ~/.*\.(query|value)/}. */
    @Option
    void target(Pattern regex) {
        targetRegex = regex.pattern()
        mark('target')
    }

    @Option
    void modulesToSave(String... names) {
        modulesToSave = names.toList()
        mark('modulesToSave')
    }

    @PackageScope
    LoraConfig build() {
        new LoraConfig(r, alpha, dropout, targets, targetRegex, modulesToSave)
    }

    /** Problems only the DSL can see: the runtime accepts names and a regex together, a recipe should not. */
    @PackageScope
    List<String> problems() {
        !targets.isEmpty() && targetRegex != null
                ? ["lora.target is given both as names ${targets} and as a regex /${targetRegex}/; keep one".toString()]
                : []
    }
}
