package org.peft4j.repl

import java.nio.file.Path

/** Paths as the REPL shows them: relative to the folder it runs in when below it. */
final class ReplPaths {

    private ReplPaths() {
    }

    static String shown(Path p) {
        Path cwd = Path.of('').toAbsolutePath()
        Path abs = p.toAbsolutePath().normalize()
        abs.startsWith(cwd) ? cwd.relativize(abs).toString() : abs.toString()
    }
}
