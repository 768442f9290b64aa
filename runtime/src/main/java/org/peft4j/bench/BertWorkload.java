package org.peft4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.models.Registry;
import org.peft4j.models.core.ModelConfig;
import org.peft4j.models.core.SequenceClassifier;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** A BERT-style sequence classifier (MiniLM by default) loaded from a Hugging Face directory, 2 labels. */
public final class BertWorkload implements Workload {

    private final Path dir;
    private final ModelConfig config;
    private final int batch;
    private final int seqLen;
    private final NDArray inputIds;
    private final NDArray attentionMask;
    private final NDArray tokenTypeIds;
    private final NDArray labels;

    /** A batch of random real tokens (ids from the upper vocabulary), every position attended. */
    public BertWorkload(Path dir, int batch, int seqLen, NDManager manager) throws IOException {
        this.dir = dir;
        this.config = Registry.config(dir);
        this.batch = batch;
        this.seqLen = seqLen;
        Random rnd = new Random(1234);
        long[] ids = new long[batch * seqLen];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1000 + rnd.nextInt(config.vocabSize() - 1000);
        }
        long[] y = new long[batch];
        for (int i = 0; i < y.length; i++) {
            y[i] = i % 2;
        }
        Shape s = new Shape(batch, seqLen);
        inputIds = manager.create(ids, s);
        attentionMask = manager.ones(s, DataType.INT64);
        tokenTypeIds = manager.zeros(s, DataType.INT64);
        labels = manager.create(y);
    }

    @Override
    public String describe() {
        return dir.getFileName() + " classifier";
    }

    @Override
    public Module newModel() throws IOException {
        return (Module) Registry.load(dir, Task.sequenceClassification(2, 42));
    }

    /** Mean cross-entropy, as the classification task trains. */
    @Override
    public NDArray loss(Module model) {
        NDArray logits = ((SequenceClassifier) model).forward(inputIds, attentionMask, tokenTypeIds);
        return logits.logSoftmax(1).gather(labels.reshape(-1, 1), 1).neg().mean();
    }

    @Override
    public void infer(Module model) {
        ((SequenceClassifier) model).forward(inputIds, attentionMask, tokenTypeIds).get(0, 0).getFloat();
    }

    @Override
    public List<String> loraTargets() {
        return List.of("query", "value");
    }

    @Override
    public List<String> modulesToSave() {
        return List.of("classifier");
    }

    @Override
    public double flops(Module model, boolean training) {
        return StepFlops.count(model, batch, seqLen, "classifier", config.numLayers(), config.hiddenSize(),
                training);
    }

    @Override
    public long tokens() {
        return (long) batch * seqLen;
    }

    @Override
    public void close() {
        inputIds.close();
        attentionMask.close();
        tokenTypeIds.close();
        labels.close();
    }
}
