package org.peft4j.recipes

import org.peft4j.cli.Main
import picocli.CommandLine

/** The peft4j command line, run in-process with its output kept. */
class Peft4j {
    final StringWriter out = new StringWriter()
    final StringWriter err = new StringWriter()
    int code

    static Peft4j run(List<String> args) {
        Peft4j p = new Peft4j()
        CommandLine cl = Main.commandLine()
        cl.out = new PrintWriter(p.out)
        cl.err = new PrintWriter(p.err)
        p.code = cl.execute(args as String[])
        p
    }
}
