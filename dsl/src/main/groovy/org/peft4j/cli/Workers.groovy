package org.peft4j.cli

import org.peft4j.dist.ProcessGroup
import org.peft4j.dist.World

/**
 * The workers a batch command (predict, embed, perplexity) runs among: torchrun's variables
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
}
