package org.peft4j.cli

import picocli.CommandLine

/** Runs the command line in-process and keeps what it printed. */
class Cli {
    final StringWriter out = new StringWriter()
    final StringWriter err = new StringWriter()
    int code

    static Cli run(String... args) {
        Cli c = new Cli()
        CommandLine cl = Main.commandLine()
        cl.out = new PrintWriter(c.out)
        cl.err = new PrintWriter(c.err)
        c.code = cl.execute(args)
        c
    }
}
