package org.peft4j.dist;

/**
 * The contiguous block of a list of inputs that one worker of a batch job takes: worker r of N gets
 * the r-th of N blocks whose sizes differ by at most one (the first {@code n mod N} blocks hold one
 * more), so that the blocks read in rank order are the inputs in their order.
 */
public record Shard(int rank, int worldSize) {

    public Shard {
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank " + rank + " of " + worldSize
                    + " workers; a rank goes from 0 to the number of workers - 1");
        }
    }

    public static Shard of(World world) {
        return new Shard(world.rank(), world.worldSize());
    }

    /** The index of this worker's first input among {@code n}. */
    public long from(long n) {
        return start(rank, n);
    }

    /** One past the index of this worker's last input among {@code n}. */
    public long to(long n) {
        return start(rank + 1, n);
    }

    private long start(int r, long n) {
        if (n < 0) {
            throw new IllegalArgumentException("a number of inputs cannot be negative: " + n);
        }
        return r * (n / worldSize) + Math.min(r, n % worldSize);
    }
}
