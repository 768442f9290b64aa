package org.peft4j.dist;

import java.util.Map;

/**
 * Where this process stands among the workers of one job, as torchrun, Kubernetes' PyTorchJob and
 * Slurm describe it: {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code MASTER_ADDR},
 * {@code MASTER_PORT}.
 */
public record World(int rank, int worldSize, int localRank, String masterAddr, int masterPort) {

    public World {
        if (worldSize < 1) {
            throw new DistributedException("WORLD_SIZE is " + worldSize + "; it must be at least 1");
        }
        if (rank < 0 || rank >= worldSize) {
            throw new DistributedException("RANK is " + rank + " but WORLD_SIZE is " + worldSize
                    + "; a rank goes from 0 to WORLD_SIZE - 1");
        }
        if (localRank < 0) {
            throw new DistributedException("LOCAL_RANK is " + localRank + "; it must be 0 or more");
        }
        if (worldSize > 1 && (masterAddr == null || masterAddr.isBlank())) {
            throw new DistributedException("MASTER_ADDR is not set; with WORLD_SIZE " + worldSize
                    + " every worker needs the address of rank 0");
        }
        if (worldSize > 1 && (masterPort < 1 || masterPort > 65535)) {
            throw new DistributedException("MASTER_PORT is " + masterPort + "; it must be a TCP port (1-65535)");
        }
    }

    /** One process, alone. */
    public static World single() {
        return new World(0, 1, 0, null, 0);
    }

    /**
     * The world that torchrun's variables in {@code env} describe; without {@code WORLD_SIZE} (or with
     * {@code WORLD_SIZE=1}) a single process.
     */
    public static World fromEnvironment(Map<String, String> env) {
        String size = env.get("WORLD_SIZE");
        if (size == null || size.isBlank() || number(env, "WORLD_SIZE") == 1) {
            return single();
        }
        int worldSize = number(env, "WORLD_SIZE");
        int rank = required(env, "RANK");
        int localRank = env.containsKey("LOCAL_RANK") ? number(env, "LOCAL_RANK") : rank;
        String addr = env.get("MASTER_ADDR");
        if (addr == null || addr.isBlank()) {
            throw new DistributedException("WORLD_SIZE is " + worldSize + " but MASTER_ADDR is not set; set it to the"
                    + " address of rank 0 (torchrun, PyTorchJob and the Slurm script in docs/distributed.md do)");
        }
        return new World(rank, worldSize, localRank, addr.trim(), required(env, "MASTER_PORT"));
    }

    /** More than one worker. */
    public boolean distributed() {
        return worldSize > 1;
    }

    /** Rank 0: the worker that writes the run directory and prints the results. */
    public boolean main() {
        return rank == 0;
    }

    private static int required(Map<String, String> env, String name) {
        if (!env.containsKey(name) || env.get(name).isBlank()) {
            throw new DistributedException("WORLD_SIZE is " + env.get("WORLD_SIZE") + " but " + name
                    + " is not set; torchrun's contract needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT");
        }
        return number(env, name);
    }

    private static int number(Map<String, String> env, String name) {
        String value = env.get(name).trim();
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new DistributedException(name + " is '" + value + "'; it must be a whole number");
        }
    }
}
