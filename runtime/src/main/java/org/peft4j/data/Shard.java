package org.peft4j.data;

/**
 * The part of every batch one worker of a data-parallel job builds: worker {@code index} of {@code count}
 * takes a contiguous slice of each global batch's rows, the slices of all workers differing by at most one
 * row, in worker order. Every worker shuffles the same global order from the same seed, so the workers'
 * slices of a batch are together exactly the batch one process would build. The batch commands (predict, embed,
 * perplexity) split their inputs the same way: each worker takes its contiguous block, so that the blocks read in
 * worker order are the inputs in their order.
 *
 * @param index the worker (its rank), from 0
 * @param count the workers (the world size)
 */
public record Shard(int index, int count) {

    /** One process builds whole batches. */
    public static final Shard WHOLE = new Shard(0, 1);

    public Shard {
        if (count < 1 || index < 0 || index >= count) {
            throw new IllegalArgumentException("shard " + index + " of " + count + ": a shard index goes from 0 to"
                    + " count - 1, and count is at least 1");
        }
    }

    /** The first row of this worker's slice of a batch of {@code rows} rows. */
    public int from(int rows) {
        return index * (rows / count) + Math.min(index, rows % count);
    }

    /** One past the last row of this worker's slice of a batch of {@code rows} rows. */
    public int to(int rows) {
        return from(rows) + rows / count + (index < rows % count ? 1 : 0);
    }

    /** This worker's rows of a global batch, given as the dataset indices of all its rows. */
    public int[] slice(int[] rows) {
        return count == 1 ? rows : java.util.Arrays.copyOfRange(rows, from(rows.length), to(rows.length));
    }
}
