package org.peft4j.dsl

import groovy.transform.CompileStatic

import java.nio.file.Path

/**
 * A block of a recipe ({@code model { }}, {@code lora { }}, ...). Each block has one small context class
 * whose {@link Option} methods are what the block may contain; the context only builds a runtime config.
 */
@CompileStatic
abstract class Context {

    protected final Origins origins
    protected final String block
    /** Relative paths in a recipe are read against the recipe's folder, so a recipe runs from anywhere. */
    protected Path baseDir

    protected Context(Origins origins, String block, Path baseDir) {
        this.origins = origins
        this.block = block
        this.baseDir = baseDir
    }

    /** Runs a recipe block against its context: names in the block resolve on the context first. */
    static <T> T configure(T context, @DelegatesTo(strategy = Closure.DELEGATE_FIRST, genericTypeIndex = 0) Closure body) {
        Closure c = (Closure) body.clone()
        c.resolveStrategy = Closure.DELEGATE_FIRST
        c.delegate = context
        c.call()
        context
    }

    /** A recipe that starts {@code from} another changes the other's blocks; its own paths read from its own folder. */
    void rebase(Path dir) {
        baseDir = dir
    }

    protected void mark(String option) {
        origins.mark(block + '.' + option)
    }

    protected Path resolve(String path) {
        baseDir.resolve(path).normalize()
    }
}
