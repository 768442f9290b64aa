package org.peft4j.run;

import ai.djl.ndarray.NDManager;
import org.peft4j.config.ConfigException;
import org.peft4j.data.Batch;
import org.peft4j.data.Batches;
import org.peft4j.data.ClassificationDataset;
import org.peft4j.data.DataConfig;
import org.peft4j.data.LabeledText;
import org.peft4j.data.OnBadLine;
import org.peft4j.data.Shard;
import org.peft4j.data.Tokenizer;
import org.peft4j.models.EmbeddedModels;
import org.peft4j.models.ModelSpec;
import org.peft4j.models.Registry;
import org.peft4j.models.core.ClassifierHead;
import org.peft4j.models.core.DecoderForSequenceClassification;
import org.peft4j.models.core.SequenceClassifier;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;
import org.peft4j.peft.TrainedHead;
import org.peft4j.train.TrainingData;
import org.peft4j.train.TrainingListener;
import org.peft4j.train.TrainingObjective;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sequence classification: any family's classifier (BERT, RoBERTa, the decoders) with the head the
 * recipe names, else the model's conventional one ({@link #headOf}).
 */
final class ClassificationRun implements TaskRun<Batch> {

    /** The encoder children of the encoder families' classifiers, under which a pooler sits. */
    private static final List<String> ENCODERS = List.of("bert", "roberta");

    private final SequenceClassifier model;
    private final ClassifierHead head;
    private final List<String> newHeadParameters;
    private final Tokenizer tokenizer;
    private final ClassificationDataset train;
    private final ClassificationDataset valid;
    private final ClassificationDataset test;
    private final ClassificationTask task;
    private final NDManager manager;
    private final List<String> labels;
    private final Path modelDir;
    private final long seed;

    /** Loads the classifier, the parts of its head the checkpoint lacks drawn from {@code seed}, then tokenizes the data. */
    ClassificationRun(RunConfig config, Path modelDir, NDManager manager, long seed, TrainingListener listener)
            throws IOException {
        this.modelDir = modelDir;
        this.seed = seed;
        this.head = headOf(config.model(), modelDir);
        this.model = load(modelDir, config.model().labels().size(), seed, head);
        if (model instanceof DecoderForSequenceClassification d && d.padTokenId() == null) {
            ((Module) model).namedParameters().values().forEach(p -> p.value().close());
            throw new ConfigException(List.of("model.task classification on " + modelDir + ": config.json has no"
                    + " pad_token_id, so the classifier cannot tell where a padded row ends (Transformers refuses"
                    + " batches > 1 alike); set pad_token_id in config.json to the tokenizer's padding token"));
        }
        this.newHeadParameters = Registry.newParameters(modelDir,
                Task.sequenceClassification(config.model().labels().size(), seed, head), (Module) model);
        listener.onPhase("tokenizing data");
        this.tokenizer = Tokenizer.load(modelDir, config.data().maxLength(), padTokenOf(model));
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

    /** The classifier with {@code head}, its new parts of {@code labels} outputs drawn from {@code seed}. */
    private static SequenceClassifier load(Path modelDir, int labels, long seed, ClassifierHead head)
            throws IOException {
        try {
            return Registry.load(modelDir, Task.sequenceClassification(labels, seed, head));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(List.of("model.task classification on " + modelDir + ": " + e.getMessage()));
        }
    }

    @Override
    public Module loadBase() throws IOException {
        return (Module) load(modelDir, labels.size(), seed, head);
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

    /** The recipe's head, else the embedded model's training convention, else the model directory's. */
    static ClassifierHead headOf(ModelSpec spec, Path modelDir) throws IOException {
        if (spec.head() != null) {
            return spec.head();
        }
        return spec.source() != null ? EmbeddedModels.conventionalHead(spec.source())
                : Registry.conventionalHead(modelDir);
    }

    /**
     * The id a decoder's classifier finds each row's end by, which its batches are padded with (as
     * Transformers' tokenizer pads with it); null for encoders, which read the attention mask.
     */
    static Integer padTokenOf(SequenceClassifier model) {
        return model instanceof DecoderForSequenceClassification d ? d.padTokenId() : null;
    }

    @Override
    public Module model() {
        return (Module) model;
    }

    /**
     * Parts of the head the checkpoint lacks start at random and must train, or the adapter would
     * be saved without them and every later load would draw other values: refused, naming the
     * modules to save.
     */
    @Override
    public void checkTrainable() {
        Map<String, org.peft4j.nn.Parameter> params = ((Module) model).namedParameters();
        List<String> frozen = newHeadParameters.stream().filter(p -> !params.get(p).trainable()).toList();
        if (frozen.isEmpty()) {
            return;
        }
        // the module to save: the head's own top-level module, or the encoder's pooler
        List<String> modules = frozen.stream().map(p -> p.split("\\."))
                .map(parts -> ENCODERS.contains(parts[0]) ? parts[1] : parts[0]).distinct().toList();
        throw new ConfigException(List.of("the " + head.label() + " head's " + frozen + " are new (the checkpoint has"
                + " none) and would stay at their random start: train them as modules to save, e.g. modulesToSave "
                + String.join(", ", modules.stream().map(m -> "'" + m + "'").toList())));
    }

    @Override
    public TrainingObjective<Batch> objective() {
        return task;
    }

    @Override
    public TrainingData<Batch> trainingData(int batchSize, long seed, Shard shard) {
        return TrainingData.of(train.batchesPerEpoch(batchSize),
                (epoch, skip, m) -> Batches.shuffled(train, batchSize, seed, epoch).sharded(shard).iterator(m, skip));
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
        saveBeside(adapterDir);
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

    /** The class names and the head, so that predict, eval, merge and export compute and name what the run trained. */
    @Override
    public void saveBeside(Path dir) throws IOException {
        HeadLabels.write(dir, labels);
        TrainedHead.record(dir, head);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
