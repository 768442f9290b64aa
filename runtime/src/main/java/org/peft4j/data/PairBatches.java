package org.peft4j.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;

/**
 * One epoch of a {@link PairDataset} in batches of B rows, packed into a {@link Batch} so that the
 * shared training loop ({@code train.Trainer}) can carry them unchanged.
 *
 * <p>Packing: with k text columns, {@code inputIds}, {@code attentionMask} and {@code tokenTypeIds}
 * are (k·B, T); rows {@code [c·B, (c+1)·B)} hold column c (anchors, then positives, then hard
 * negatives). {@code labels} is (B): for unscored data the int64 index of each anchor's positive
 * among the candidates, i.e. 0..B-1, the InfoNCE target on the diagonal; for scored pairs the
 * float32 scores. {@link #unpack} splits a batch back into its columns, each cut to its own longest
 * row, so short anchors are not run at the width of long documents.
 *
 * <p>The order is a seeded Fisher–Yates shuffle with the same (seed, epoch) mixing as
 * {@link Batches}, so an epoch is reproducible on every JVM.
 */
public final class PairBatches {

    /** One text column of a packed batch: (B, T_c) arrays, T_c the column's own longest row. */
    public record Column(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
    }

    private final PairDataset data;
    private final int batchSize;
    private final int[] order;
    private final Shard shard;

    private PairBatches(PairDataset data, int batchSize, int[] order) {
        this(data, batchSize, order, Shard.WHOLE);
    }

    private PairBatches(PairDataset data, int batchSize, int[] order, Shard shard) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize = " + batchSize + " must be >= 1");
        }
        this.data = data;
        this.batchSize = batchSize;
        this.order = order;
        this.shard = shard;
    }

    /**
     * The same epoch, each batch cut to {@code shard}'s rows (a worker's share of the global batch); in-batch
     * negatives are then those of the share.
     */
    public PairBatches sharded(Shard shard) {
        return new PairBatches(data, batchSize, order, shard);
    }

    public static PairBatches shuffled(PairDataset data, int batchSize, long seed, int epoch) {
        int[] order = identity(data.size());
        Random random = new Random(Batches.epochSeed(seed, epoch));
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return new PairBatches(data, batchSize, order);
    }

    public static PairBatches inOrder(PairDataset data, int batchSize) {
        return new PairBatches(data, batchSize, identity(data.size()));
    }

    private static int[] identity(int n) {
        int[] order = new int[n];
        Arrays.setAll(order, i -> i);
        return order;
    }

    public int size() {
        return (order.length + batchSize - 1) / batchSize;
    }

    /** Dataset indices of batch {@code b}'s rows. */
    public int[] indices(int b) {
        return Arrays.copyOfRange(order, b * batchSize, Math.min(order.length, (b + 1) * batchSize));
    }

    /** Builds batch {@code b} (this shard's rows of it) in {@code manager}, packed as described above; call it inside the step's scope. */
    public Batch get(int b, NDManager manager) {
        if (b < 0 || b >= size()) {
            throw new IndexOutOfBoundsException("batch " + b + " of an epoch with " + size() + " batches");
        }
        int[] rows = shard.slice(indices(b));
        int k = data.columnCount();
        int n = rows.length;
        int width = 0;
        long tokens = 0;
        for (int c = 0; c < k; c++) {
            for (int r : rows) {
                int len = data.column(c).length(r);
                width = Math.max(width, len);
                tokens += len;
            }
        }
        long[] ids = new long[k * n * width];
        long[] mask = new long[k * n * width];
        long[] types = new long[k * n * width];
        Arrays.fill(ids, data.padId());
        for (int c = 0; c < k; c++) {
            TokenTable column = data.column(c);
            for (int j = 0; j < n; j++) {
                int at = (c * n + j) * width;
                column.copyInto(rows[j], ids, types, at);
                Arrays.fill(mask, at, at + column.length(rows[j]), 1L);
            }
        }
        Shape shape = new Shape((long) k * n, width);
        NDArray labels;
        if (data.hasScores()) {
            float[] s = new float[n];
            for (int j = 0; j < n; j++) {
                s[j] = data.score(rows[j]);
            }
            labels = manager.create(s);
        } else {
            labels = manager.arange(0, n, 1, DataType.INT64);
        }
        return new Batch(manager.create(ids, shape), manager.create(mask, shape), manager.create(types, shape),
                labels, tokens);
    }

    /** Batches {@code fromBatch, ...} of the epoch; each {@code next()} makes its arrays in {@code manager}. */
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

    /**
     * Splits a packed batch into its text columns (see the class comment), each cut to its own
     * longest row. The arrays are views or results in the batch's manager, freed with the step.
     */
    public static List<Column> unpack(Batch batch) {
        long rows = batch.inputIds().getShape().get(0);
        long n = batch.labels().getShape().get(0);
        if (n == 0 || rows % n != 0) {
            throw new IllegalArgumentException("a packed pair batch has k·B rows for B labels; got " + rows
                    + " rows and " + n + " labels");
        }
        // the widths come from the masks: one small sync per batch, cheap next to the forward pass
        long[] lengths = batch.attentionMask().sum(new int[] {1}).toLongArray();
        List<Column> out = new ArrayList<>();
        for (long c = 0; c < rows / n; c++) {
            long width = 1;
            for (long j = c * n; j < (c + 1) * n; j++) {
                width = Math.max(width, lengths[(int) j]);
            }
            NDIndex index = new NDIndex("{}:{}, :{}", c * n, (c + 1) * n, width);
            out.add(new Column(batch.inputIds().get(index), batch.attentionMask().get(index),
                    batch.tokenTypeIds().get(index)));
        }
        return out;
    }
}
