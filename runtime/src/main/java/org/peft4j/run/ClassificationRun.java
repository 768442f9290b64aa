package org.peft4j.run;

import ai.djl.ndarray.NDManager;
import org.peft4j.data.Batch;
import org.peft4j.data.Batches;
import org.peft4j.data.ClassificationDataset;
import org.peft4j.data.OnBadLine;
import org.peft4j.data.Tokenizer;
import org.peft4j.models.Registry;
import org.peft4j.models.core.SequenceClassifier;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;
import org.peft4j.train.TrainingData;
import org.peft4j.train.TrainingObjective;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Sequence classification with a BERT-style encoder and a new {@code classifier} head. */
final class ClassificationRun implements TaskRun<Batch> {

    private final SequenceClassifier model;
    private final Tokenizer tokenizer;
    private final ClassificationDataset train;
    private final ClassificationDataset valid;
    private final ClassificationDataset test;
    private final ClassificationTask task;

    /** Loads the encoder with a head initialised from the engine's current seed, then tokenizes the data. */
    ClassificationRun(RunConfig config, Path modelDir, NDManager manager, long seed,
                      org.peft4j.train.TrainingListener listener) throws IOException {
        this.model = Registry.load(modelDir, Task.sequenceClassification(config.model().labels().size(), seed));
        listener.onPhase("tokenizing data");
        this.tokenizer = Tokenizer.load(modelDir, config.data().maxLength());
        List<String> labels = config.model().labels();
        this.train = ClassificationDataset.train(config.data(), labels, tokenizer, OnBadLine.FAIL);
        this.valid = config.data().valid() == null ? null
                : ClassificationDataset.valid(config.data(), labels, tokenizer, OnBadLine.FAIL);
        this.test = config.data().test() == null ? null
                : ClassificationDataset.test(config.data(), labels, tokenizer, OnBadLine.FAIL);
        this.task = new ClassificationTask(model, manager);
    }

    @Override
    public Module model() {
        return (Module) model;
    }

    @Override
    public TrainingObjective<Batch> objective() {
        return task;
    }

    @Override
    public TrainingData<Batch> trainingData(int batchSize, long seed) {
        return new TrainingData<Batch>() {
            @Override
            public int batchesPerEpoch() {
                return train.batchesPerEpoch(batchSize);
            }

            @Override
            public Iterator<Batch> epoch(int epoch, int skip, NDManager m) {
                return Batches.shuffled(train, batchSize, seed, epoch).iterator(m, skip);
            }
        };
    }

    @Override
    public Map<String, Map<String, Long>> splitStats() {
        Map<String, Map<String, Long>> splits = new LinkedHashMap<>();
        splits.put("train", train.stats());
        if (valid != null) {
            splits.put("valid", valid.stats());
        }
        if (test != null) {
            splits.put("test", test.stats());
        }
        return splits;
    }

    @Override
    public List<String> evalSplits() {
        List<String> out = new ArrayList<>();
        if (valid != null) {
            out.add("valid");
        }
        if (test != null) {
            out.add("test");
        }
        return out;
    }

    @Override
    public Map<String, Double> evaluate(String split, int batchSize) {
        return task.evaluate("valid".equals(split) ? valid : test, batchSize);
    }

    @Override
    public String peftTaskType() {
        return "SEQ_CLS";
    }

    /** The weights alone, beside where an adapter would go (as before tasks were pluggable). */
    @Override
    public Path saveFull(Path runDir, Path adapterDir) throws IOException {
        FullWeights.save((Module) model, adapterDir);
        return adapterDir;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
