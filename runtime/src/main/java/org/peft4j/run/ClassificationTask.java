package org.peft4j.run;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.data.Batch;
import org.peft4j.data.Batches;
import org.peft4j.data.ClassificationDataset;
import org.peft4j.models.core.SequenceClassifier;
import org.peft4j.nn.Module;
import org.peft4j.tensor.StepScope;
import org.peft4j.train.ClassificationMetrics;
import org.peft4j.train.TrainingObjective;

import java.util.Map;

/** Sequence classification: cross-entropy for training, accuracy / F1 / loss for evaluation. */
public final class ClassificationTask implements TrainingObjective<Batch> {

    private final SequenceClassifier model;
    private final NDManager manager;

    public ClassificationTask(SequenceClassifier model, NDManager manager) {
        this.model = model;
        this.manager = manager;
    }

    /** Mean cross-entropy −log softmax(z)_y over the batch. */
    @Override
    public NDArray loss(Batch batch) {
        NDArray logits = model.forward(batch.inputIds(), batch.attentionMask(), batch.tokenTypeIds());
        return crossEntropy(logits, batch.labels()).mean();
    }

    private static NDArray crossEntropy(NDArray logits, NDArray labels) {
        return logits.logSoftmax(1).gather(labels.reshape(-1, 1), 1).neg();
    }

    /** Metrics over a whole split, in file order, without an autograd graph and with dropout off. */
    public Map<String, Double> evaluate(ClassificationDataset data, int batchSize) {
        Module module = (Module) model;
        boolean wasTraining = module.isTraining();
        module.train(false);
        int[] predicted = new int[data.size()];
        int[] gold = new int[data.size()];
        double lossSum = 0;
        Batches batches = Batches.inOrder(data, batchSize);
        try {
            for (int b = 0; b < batches.size(); b++) {
                try (StepScope scope = new StepScope()) {
                    Batch batch = batches.get(b, manager);
                    NDArray logits = model.forward(batch.inputIds(), batch.attentionMask(), batch.tokenTypeIds());
                    lossSum += crossEntropy(logits, batch.labels()).sum().getFloat();
                    long[] argmax = logits.argMax(1).toLongArray();
                    int[] rows = batches.indices(b);
                    for (int j = 0; j < rows.length; j++) {
                        predicted[rows[j]] = (int) argmax[j];
                        gold[rows[j]] = data.label(rows[j]);
                    }
                }
            }
        } finally {
            module.train(wasTraining);
        }
        Map<String, Double> m = ClassificationMetrics.compute(predicted, gold, data.labels().size());
        m.put("loss", data.size() == 0 ? 0 : lossSum / data.size());
        return m;
    }
}
