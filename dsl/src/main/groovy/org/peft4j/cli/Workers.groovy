package org.peft4j.cli

import org.peft4j.dist.LocalLauncher
import org.peft4j.dist.ProcessGroup
import org.peft4j.dist.World
import picocli.CommandLine.Model.CommandSpec

/**
 * The workers a command (run, predict, embed, perplexity) runs among: torchrun's variables
 * (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) make one process one worker of many, each taking
 * its block of the inputs; without them the command runs alone.
 */
final class Workers {

    private Workers() {
    }

    /** {@code given} (a command run inside a test's group), else the group the environment describes. */
    static ProcessGroup join(ProcessGroup given) {
        given ?: ProcessGroup.open(World.fromEnvironment(System.getenv()))
    }

    /** Closes a group {@link #join} opened; a given one belongs to its caller. */
    static void leave(ProcessGroup group, ProcessGroup given) {
        if (group != null && !group.is(given)) {
            group.close()
        }
    }

    /**
     * --nproc N: the command again as N workers on this machine, each with its share of the cores, this process
     * only supervising them; returns their exit code, or null when {@code nproc} was not given.
     */
    static Integer launch(Integer nproc, CommandSpec spec) {
        if (nproc == null) {
            return null
        }
        if (nproc < 1) {
            throw new UserError("--nproc is ${nproc}; it must be at least 1")
        }
        World world = World.fromEnvironment(System.getenv())
        if (world.distributed()) {
            throw new UserError("--nproc starts workers on this machine, but this process is already rank ${world.rank()}"
                    + " of WORLD_SIZE ${world.worldSize()} (from the environment): drop --nproc, or unset WORLD_SIZE")
        }
        // the whole command line as given (picocli keeps it, the subcommand's name included)
        List<String> args = withoutNproc(spec.commandLine().parseResult.originalArgs())
        new LocalLauncher(nproc, Main.name, args, spec.commandLine().err).run()
    }

    /** The arguments of a command without {@code --nproc N} (or {@code --nproc=N}). */
    static List<String> withoutNproc(List<String> args) {
        List<String> out = []
        for (int i = 0; i < args.size(); i++) {
            if (args[i] == '--nproc') {
                i++
            } else if (!args[i].startsWith('--nproc=')) {
                out << args[i]
            }
        }
        out
    }
}
