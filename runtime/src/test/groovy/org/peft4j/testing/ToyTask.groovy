package org.peft4j.testing

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.Shape
import org.peft4j.data.Batch
import org.peft4j.train.TrainingData
import org.peft4j.train.TrainingObjective

/**
 * A toy classification task for the training loop: fixed random features (N × 10) and labels,
 * served in a (seed, epoch)-shuffled order like the real batches, and a cross-entropy objective
 * over {@link TinyMlp} with dropout on its input, so that resuming has an RNG to get right.
 * The features travel in {@link Batch#inputIds()}; the loop never looks inside a batch.
 */
class ToyTask implements TrainingData<Batch>, TrainingObjective<Batch> {

    final TinyMlp model
    final float[][] x
    final long[] y
    final int batchSize
    final long seed
    final float dropout

    ToyTask(TinyMlp model, int examples, int batchSize, long seed, float dropout = 0.2f) {
        this.model = model
        this.batchSize = batchSize
        this.seed = seed
        this.dropout = dropout
        def random = new Random(1234)
        x = (0..<examples).collect { (0..<10).collect { (float) random.nextGaussian() } as float[] } as float[][]
        y = (0..<examples).collect { x[it][0] + x[it][1] > 0 ? 1L : 0L } as long[]
    }

    @Override
    int batchesPerEpoch() {
        (x.length + batchSize - 1).intdiv(batchSize)
    }

    /** Examples of epoch {@code epoch}, in order (seeded Fisher–Yates). */
    List<Integer> order(int epoch) {
        def idx = (0..<x.length).toList()
        Collections.shuffle(idx, new Random(seed * 31 + epoch))
        idx
    }

    Batch batch(List<Integer> rows, NDManager m) {
        NDArray features = m.create(rows.collect { x[it] } as float[][])
        NDArray labels = m.create(rows.collect { y[it] } as long[], new Shape(rows.size()))
        new Batch(features, features, features, labels, rows.size())
    }

    @Override
    Iterator<Batch> epoch(int epoch, int skip, NDManager m) {
        def rows = order(epoch).collate(batchSize)
        Iterator<List<Integer>> pending = rows.drop(skip).iterator()
        [hasNext: { -> pending.hasNext() }, next: { -> batch(pending.next(), m) }] as Iterator<Batch>
    }

    @Override
    NDArray loss(Batch batch) {
        NDArray input = batch.inputIds()
        if (model.isTraining() && dropout > 0) {
            input = ai.djl.nn.norm.Dropout.dropout(input, dropout, true).singletonOrThrow()
        }
        NDArray logits = model.forward(input)
        logits.logSoftmax(1).gather(batch.labels().reshape(-1, 1), 1).neg().mean()
    }
}
