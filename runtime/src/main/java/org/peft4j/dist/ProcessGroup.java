package org.peft4j.dist;

import ai.djl.ndarray.NDArray;

import java.util.List;

/**
 * The collectives a data-parallel job needs, over all workers of a {@link World}. Every worker must
 * make the same calls in the same order with arrays of the same shapes, as with c10d.
 */
public interface ProcessGroup extends AutoCloseable {

    World world();

    /** Replaces every array, in place, by its element-wise mean over the workers. */
    void allReduceMean(List<NDArray> arrays);

    /** The element-wise sums of {@code values} over the workers. */
    double[] allReduceSum(double... values);

    /** Returns once every worker has called it. */
    void barrier();

    @Override
    void close();

    /**
     * The group of {@code world}'s workers, connected through c10d (Gloo) when there is more than one;
     * returns once every worker has joined, or throws naming the master it could not reach.
     */
    static ProcessGroup open(World world) {
        if (!world.distributed()) {
            return single();
        }
        return GlooProcessGroup.start(world, DistSettings.current());
    }

    /** The group of a process alone, every collective returning its input; one instance, so options holding it compare equal. */
    static ProcessGroup single() {
        return SingleProcess.GROUP;
    }
}
