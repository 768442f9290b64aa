package org.peft4j.data;

import ai.djl.ndarray.NDManager;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Random;

/** The batches of a {@link CausalLmDataset} in a fixed order: shuffled per (seed, epoch), or file order. */
public final class CausalLmBatches {

    private final CausalLmDataset data;
    private final int batchSize;
    private final int[] order;
    private final Shard shard;

    private CausalLmBatches(CausalLmDataset data, int batchSize, int[] order) {
        this(data, batchSize, order, Shard.WHOLE);
    }

    private CausalLmBatches(CausalLmDataset data, int batchSize, int[] order, Shard shard) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize = " + batchSize + " must be >= 1");
        }
        this.data = data;
        this.batchSize = batchSize;
        this.order = order;
        this.shard = shard;
    }

    /** The same epoch, each batch cut to {@code shard}'s rows (a worker's share of the global batch). */
    public CausalLmBatches sharded(Shard shard) {
        return new CausalLmBatches(data, batchSize, order, shard);
    }

    /** A Fisher–Yates shuffle seeded by (seed, epoch) alone, as classification's, so a resumed epoch repeats it. */
    public static CausalLmBatches shuffled(CausalLmDataset data, int batchSize, long seed, int epoch) {
        int[] order = inOrder(data, batchSize).order;
        Random random = new Random(Batches.epochSeed(seed, epoch));
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return new CausalLmBatches(data, batchSize, order);
    }

    public static CausalLmBatches inOrder(CausalLmDataset data, int batchSize) {
        int[] order = new int[data.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        return new CausalLmBatches(data, batchSize, order);
    }

    public static int count(int examples, int batchSize) {
        return (examples + batchSize - 1) / batchSize;
    }

    public int size() {
        return count(order.length, batchSize);
    }

    /** Batch {@code b} (this shard's rows of it), right-padded, its arrays made in {@code manager}. */
    public CausalLmBatch get(int b, NDManager manager) {
        int from = b * batchSize;
        int[] rows = shard.slice(java.util.Arrays.copyOfRange(order, from, Math.min(order.length, from + batchSize)));
        return data.batch(rows, manager, PaddingSide.RIGHT);
    }

    /** Batches from {@code skip} on, each made when {@code next()} is called. */
    public Iterator<CausalLmBatch> iterator(NDManager manager, int skip) {
        return new Iterator<>() {
            int next = skip;

            @Override
            public boolean hasNext() {
                return next < size();
            }

            @Override
            public CausalLmBatch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return get(next++, manager);
            }
        };
    }
}
