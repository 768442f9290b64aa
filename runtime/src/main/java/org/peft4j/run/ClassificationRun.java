package org.peft4j.run;

import ai.djl.ndarray.NDManager;
import org.peft4j.config.ConfigException;
import org.peft4j.data.Batch;
import org.peft4j.data.Batches;
import org.peft4j.data.ClassificationDataset;
import org.peft4j.data.DataConfig;
import org.peft4j.data.LabeledText;
import org.peft4j.data.OnBadLine;
import org.peft4j.data.Tokenizer;
import org.peft4j.models.Registry;
import org.peft4j.models.core.SequenceClassifier;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;
import org.peft4j.train.TrainingData;
import org.peft4j.train.TrainingListener;
import org.peft4j.train.TrainingObjective;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Sequence classification with an encoder and its family's new classification head. */
final class ClassificationRun implements TaskRun<Batch> {

    private final SequenceClassifier model;
    private final Tokenizer tokenizer;
    private final ClassificationDataset train;
    private final ClassificationDataset valid;
    private final ClassificationDataset test;
    private final ClassificationTask task;
    private final NDManager manager;
    private final List<String> labels;
    private final Path modelDir;
    private final long seed;

    /** Loads the encoder with a head initialised from the engine's current seed, then tokenizes the data. */
    ClassificationRun(RunConfig config, Path modelDir, NDManager manager, long seed, TrainingListener listener)
            throws IOException {
        this.modelDir = modelDir;
        this.seed = seed;
        this.model = load(modelDir, config.model().labels().size(), seed);
        listener.onPhase("tokenizing data");
        this.tokenizer = Tokenizer.load(modelDir, config.data().maxLength());
        this.labels = config.model().labels();
        this.train = ClassificationDataset.train(config.data(), labels, tokenizer, OnBadLine.FAIL);
        checkClasses(train, config.data(), listener);
        this.valid = config.data().valid() == null ? null
                : ClassificationDataset.valid(config.data(), labels, tokenizer, OnBadLine.FAIL);
        this.test = config.data().test() == null ? null
                : ClassificationDataset.test(config.data(), labels, tokenizer, OnBadLine.FAIL);
        this.task = new ClassificationTask(model, manager);
        this.manager = manager;
    }

    /** The encoder with a new head of {@code labels} outputs drawn from {@code seed}. */
    private static SequenceClassifier load(Path modelDir, int labels, long seed) throws IOException {
        return Registry.load(modelDir, Task.sequenceClassification(labels, seed));
    }

    @Override
    public Module loadBase() throws IOException {
        return (Module) load(modelDir, labels.size(), seed);
    }

    /** The logits, (n, classes). */
    @Override
    public float[][] outputs(Module m, int n) {
        SequenceClassifier classifier = (SequenceClassifier) m;
        return Probes.of(m, () -> {
            Batch batch = Batches.inOrder(train, n).get(0, manager);
            return classifier.forward(batch.inputIds(), batch.attentionMask(), batch.tokenTypeIds());
        });
    }

    /**
     * Training data of one class teaches the classifier nothing but that class: refused, with the count of every
     * class. A class without examples beside others is said, since the classifier can never predict it.
     */
    static void checkClasses(ClassificationDataset train, DataConfig data, TrainingListener listener) {
        long[] counts = new long[train.labels().size()];
        for (int i = 0; i < train.size(); i++) {
            counts[train.label(i)]++;
        }
        StringBuilder each = new StringBuilder();
        List<String> missing = new ArrayList<>();
        for (int k = 0; k < counts.length; k++) {
            each.append(k == 0 ? "" : ", ").append(train.labels().get(k)).append(' ').append(counts[k]);
            if (counts[k] == 0) {
                missing.add(train.labels().get(k));
            }
        }
        long present = counts.length - missing.size();
        String read = data.limit() > 0 ? " (data.limit = " + data.limit() + " read the file's first " + data.limit()
                + " examples: if it is sorted by label, shuffle it)" : "";
        if (present < 2) {
            throw new ConfigException(List.of("data.train " + data.train() + " has examples of one class only ("
                    + each + "); a classifier needs examples of at least two classes" + read));
        }
        if (!missing.isEmpty()) {
            listener.onPhase("warning: data.train has no example of " + String.join(", ", missing) + " (" + each
                    + "); the classifier can never predict " + (missing.size() == 1 ? "it" : "them") + read);
        }
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
        return TrainingData.of(train.batchesPerEpoch(batchSize),
                (epoch, skip, m) -> Batches.shuffled(train, batchSize, seed, epoch).iterator(m, skip));
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
    public List<String> labels() {
        return labels;
    }

    @Override
    public float[][] logits(List<String> texts) {
        List<LabeledText> examples = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            // the class id is a placeholder the model never reads
            examples.add(new LabeledText(texts.get(i), 0, i + 1));
        }
        ClassificationDataset data = ClassificationDataset.of(examples, labels, tokenizer);
        return Probes.of((Module) model, () -> {
            Batch batch = Batches.inOrder(data, texts.size()).get(0, manager);
            return model.forward(batch.inputIds(), batch.attentionMask(), batch.tokenTypeIds());
        });
    }

    /** The class names, so that predict, merge and export name the classes as the recipe did. */
    @Override
    public void saveBeside(Path dir) throws IOException {
        HeadLabels.write(dir, labels);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
