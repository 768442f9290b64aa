package org.peft4j.cli

import org.peft4j.dist.ProcessGroup
import org.peft4j.testing.ThreadWorkers
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
    static Cli run(ProcessGroup group, String... args) {
        Cli c = new Cli()
        CommandLine cl = group == null ? Main.commandLine() : Main.commandLine(factory(group))
        cl.out = new PrintWriter(c.out)
        cl.err = new PrintWriter(c.err)
        c.code = cl.execute(args)
        c
    }

    /** Runs {@code args} as the {@code n} workers of one job, threads of this JVM; returns each rank's Cli. */
    static List<Cli> workers(int n, String... args) {
        ThreadWorkers.run(n) { ProcessGroup group -> run(group, args) }
    }

    /** A picocli factory that hands {@code group} to every command that takes one. */
    private static CommandLine.IFactory factory(ProcessGroup group) {
        { Class cls ->
            Object command = CommandLine.defaultFactory().create(cls)
            if (command.hasProperty('group')) {
                command.group = group
            }
            command
        } as CommandLine.IFactory
    }
}
