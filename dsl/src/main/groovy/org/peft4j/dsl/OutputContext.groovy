package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.PackageScope

import java.nio.file.Path

/** {@code output { dir 'runs/spam' }}: where a run is written when the command line gives no {@code --out}. */
@CompileStatic
class OutputContext extends Context {

    private Path dir

    OutputContext(Origins origins, Path baseDir) {
        super(origins, 'output', baseDir)
    }

    /** The run directory, relative to the recipe's folder. */
    @Option
    void dir(String directory) {
        dir = resolve(directory)
        mark('dir')
    }

    @PackageScope
    Path build() {
        dir
    }
}
