package org.peft4j.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Random;

/**
 * One epoch of a dataset cut into batches: either in a seeded shuffled order (training) or in
 * file order (evaluation). The last batch is kept even when smaller. Each batch is padded only to
 * its own longest example (dynamic padding).
 *
 * <p>The shuffle is an explicit Fisher–Yates (Durstenfeld) pass driven by {@link java.util.Random}
 * seeded from (seed, epoch). {@code Random}'s generator and {@code nextInt(bound)} are specified in
 * its Javadoc, so an order is the same on every JVM: a run can be reproduced, and resumed at any
 * batch of any epoch.
 */
public final class Batches {

    private final ClassificationDataset data;
    private final int batchSize;
    private final int[] order;
    private final Shard shard;

    private Batches(ClassificationDataset data, int batchSize, int[] order) {
        this(data, batchSize, order, Shard.WHOLE);
    }

    private Batches(ClassificationDataset data, int batchSize, int[] order, Shard shard) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize = " + batchSize + " must be >= 1");
        }
        this.data = data;
        this.batchSize = batchSize;
        this.order = order;
        this.shard = shard;
    }

    /** The same epoch, each batch cut to {@code shard}'s rows (a worker's share of the global batch). */
    public Batches sharded(Shard shard) {
        return new Batches(data, batchSize, order, shard);
    }

    /** Epoch {@code epoch} of training: the same (seed, epoch) always gives the same order. */
    public static Batches shuffled(ClassificationDataset data, int batchSize, long seed, int epoch) {
        int[] order = identity(data.size());
        Random random = new Random(epochSeed(seed, epoch));
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return new Batches(data, batchSize, order);
    }

    /** File order, for evaluation. */
    public static Batches inOrder(ClassificationDataset data, int batchSize) {
        return new Batches(data, batchSize, identity(data.size()));
    }

    private static int[] identity(int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        return order;
    }

    /**
     * Mixes seed and epoch with the SplitMix64 finalizer, so that neighbouring epochs (and
     * neighbouring seeds) start {@code Random} from unrelated states.
     */
    static long epochSeed(long seed, int epoch) {
        long z = seed + 0x9E3779B97F4A7C15L * (epoch + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Number of batches in this epoch. */
    public int size() {
        return (order.length + batchSize - 1) / batchSize;
    }

    public int batchSize() {
        return batchSize;
    }

    /** The dataset indices of all examples of this epoch, in the order they are served (a copy). */
    public int[] order() {
        return order.clone();
    }

    /** The dataset indices of the examples in batch {@code b} (a copy), e.g. to attach predictions. */
    public int[] indices(int b) {
        checkIndex(b);
        return Arrays.copyOfRange(order, b * batchSize, Math.min(order.length, (b + 1) * batchSize));
    }

    /**
     * Builds batch {@code b} (this shard's rows of it) in {@code manager}: four arrays, each made by one bulk create from a
     * Java buffer. Call it inside the step's scope so the arrays are freed with the step.
     */
    public Batch get(int b, NDManager manager) {
        checkIndex(b);
        int[] examples = shard.slice(indices(b));
        int rows = examples.length;
        int width = 0;
        long tokens = 0;
        for (int r = 0; r < rows; r++) {
            int len = data.length(examples[r]);
            width = Math.max(width, len);
            tokens += len;
        }
        long[] ids = new long[rows * width];
        long[] mask = new long[rows * width];
        long[] types = new long[rows * width];
        long[] labels = new long[rows];
        Arrays.fill(ids, data.padId());
        for (int r = 0; r < rows; r++) {
            int example = examples[r];
            data.copyInto(example, ids, types, r * width);
            Arrays.fill(mask, r * width, r * width + data.length(example), 1L);
            labels[r] = data.label(example);
        }
        Shape shape = new Shape(rows, width);
        NDArray inputIds = manager.create(ids, shape);
        NDArray attentionMask = manager.create(mask, shape);
        NDArray tokenTypeIds = manager.create(types, shape);
        NDArray labelArray = manager.create(labels, new Shape(rows));
        return new Batch(inputIds, attentionMask, tokenTypeIds, labelArray, tokens);
    }

    /** All batches of the epoch, in order. */
    public Iterator<Batch> iterator(NDManager manager) {
        return iterator(manager, 0);
    }

    /**
     * Batches {@code fromBatch, fromBatch + 1, ...} of the epoch, to resume mid-epoch. Each
     * {@code next()} makes its arrays in {@code manager}; call it inside the step's scope.
     */
    public Iterator<Batch> iterator(NDManager manager, int fromBatch) {
        if (fromBatch < 0 || fromBatch > size()) {
            throw new IllegalArgumentException("start batch " + fromBatch + " is outside this epoch's 0.." + size()
                    + " batches");
        }
        return new Iterator<>() {
            private int next = fromBatch;

            @Override
            public boolean hasNext() {
                return next < size();
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("epoch has " + size() + " batches");
                }
                return get(next++, manager);
            }
        };
    }

    private void checkIndex(int b) {
        if (b < 0 || b >= size()) {
            throw new IndexOutOfBoundsException("batch " + b + " of an epoch with " + size() + " batches");
        }
    }
}
