package org.peft4j.cli

import picocli.CommandLine

/** Runs the command line in-process and keeps what it printed. */
class Cli {
    final StringWriter out = new StringWriter()
    final StringWriter err = new StringWriter()
    int code

    static Cli run(String... args) {
        run(null, args)
    }

    /** As a worker of {@code group}'s job (null: alone, or as torchrun's variables say). */
    static Cli run(org.peft4j.dist.ProcessGroup group, String... args) {
        Cli c = new Cli()
        CommandLine cl = group == null ? Main.commandLine() : Main.commandLine(ThreadWorkers.factory(group))
        cl.out = new PrintWriter(c.out)
        cl.err = new PrintWriter(c.err)
        c.code = cl.execute(args)
        c
    }
}
