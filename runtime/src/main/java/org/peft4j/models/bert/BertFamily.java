package org.peft4j.models.bert;

import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.BertConfig;
import org.peft4j.models.core.CheckpointFiles;
import org.peft4j.models.core.CheckpointNames;
import org.peft4j.models.core.ClassifierHead;
import org.peft4j.models.core.HeadInit;
import org.peft4j.models.core.MeanPooledClassifier;
import org.peft4j.models.core.ModelFamily;
import org.peft4j.models.core.SentenceTransformersLayout;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;

/**
 * BERT (and MiniLM, which is a BERT): Transformers' {@link BertForSequenceClassification} (CLS →
 * pooler → classifier), a classifier on the mean of the token states ({@link ClassifierHead#MEAN}),
 * or the bare encoder for embeddings, with its pooler when the checkpoint has one.
 */
public final class BertFamily implements ModelFamily<BertConfig> {

    public static final BertFamily INSTANCE = new BertFamily();

    private static final String POOLER = "pooler.";
    private static final String CLASSIFIER = "classifier.";

    private BertFamily() {
    }

    @Override
    public String name() {
        return "bert";
    }

    @Override
    public List<String> modelTypes() {
        return List.of("bert");
    }

    @Override
    public List<String> loraTargets() {
        return List.of("query", "value");
    }

    @Override
    public List<Task.Kind> tasks() {
        return List.of(Task.Kind.SEQUENCE_CLASSIFICATION, Task.Kind.ENCODER);
    }

    @Override
    public List<ClassifierHead> heads() {
        return List.of(ClassifierHead.TRANSFORMERS, ClassifierHead.MEAN);
    }

    @Override
    public BertConfig readConfig(Path configFile) throws IOException {
        return BertConfig.read(configFile, modelTypes());
    }

    /** A mean-pooled classifier's weights may sit in sentence-transformers' Dense layer (a merged export). */
    @Override
    public CheckpointFiles weights(Path dir, Task<?> task) throws IOException {
        return SentenceTransformersLayout.checkpoint(dir, task);
    }

    @Override
    public Module build(BertConfig config, Task<?> task, NDManager manager) {
        return build(config, task, false, manager);
    }

    @Override
    public Module build(BertConfig config, Task<?> task, CheckpointFiles weights, NDManager manager) {
        return build(config, task, hasPooler(weights), manager);
    }

    private static Module build(BertConfig config, Task<?> task, boolean pooler, NDManager manager) {
        if (task.kind() == Task.Kind.ENCODER) {
            return new BertModel(manager, config, pooler);
        }
        if (task.head() == ClassifierHead.MEAN) {
            return new MeanPooledClassifier(manager, "bert", new BertModel(manager, config, false), config.hiddenSize(),
                    config.classifierDropout(), task.numLabels());
        }
        return new BertForSequenceClassification(manager, config, task.numLabels());
    }

    /** Whether the checkpoint has a pooler, bare or {@code bert.}-prefixed. */
    private static boolean hasPooler(CheckpointFiles weights) {
        return weights.entries().keySet().stream().anyMatch(n -> n.startsWith(POOLER) || n.startsWith("bert." + POOLER));
    }

    /**
     * Checkpoints of a bare BertModel and of a task model ({@code bert.}-prefixed) both load; the
     * position_ids buffer is not a weight. The encoder ignores a task model's classifier; the mean
     * head ignores the pooler.
     */
    @Override
    public CheckpointNames checkpointNames(BertConfig config, Task<?> task) {
        if (task.kind() == Task.Kind.ENCODER) {
            return CheckpointNames.prefixed("", "bert.", n -> n.equals("embeddings.position_ids")
                    || n.startsWith(CLASSIFIER));
        }
        boolean mean = task.head() == ClassifierHead.MEAN;
        CheckpointNames encoder = CheckpointNames.prefixed("bert.", "", n -> n.equals("embeddings.position_ids")
                || (mean && n.startsWith(POOLER)));
        return new CheckpointNames() {
            @Override
            public String toPath(String name) {
                return name.startsWith(CLASSIFIER) ? name : encoder.toPath(name);
            }

            @Override
            public String toCheckpoint(String path) {
                return path;
            }
        };
    }

    /**
     * A head part the checkpoint has no tensor of (the classifier; the pooler, which sentence
     * encoders such as MiniLM do not ship) is new; one it has half of is refused.
     */
    @Override
    public Predicate<String> optionalPaths(Task<?> task, CheckpointFiles weights) {
        boolean hasClassifier = weights.entries().keySet().stream().anyMatch(n -> n.startsWith(CLASSIFIER));
        boolean hasPooler = hasPooler(weights);
        return path -> (!hasClassifier && path.startsWith(CLASSIFIER)) || (!hasPooler && path.startsWith("bert." + POOLER));
    }

    /**
     * Draws the head parts the checkpoint lacked as Transformers initialises a Linear: weights
     * N(0, initializer_range²), biases zero; in Java from the task's seed, the classifier first.
     */
    @Override
    public void initialize(Module model, BertConfig config, Task<?> task, List<String> notLoaded, NDManager manager) {
        if (notLoaded.isEmpty()) {
            return;
        }
        Random random = new Random(task.seed());
        if (notLoaded.stream().anyMatch(p -> p.startsWith(CLASSIFIER))) {
            HeadInit.linear((Linear) model.module("classifier"), config.initializerRange(), 0, random, manager);
        }
        if (notLoaded.stream().anyMatch(p -> p.startsWith("bert." + POOLER))) {
            HeadInit.linear((Linear) model.module("bert.pooler.dense"), config.initializerRange(), 0, random, manager);
        }
    }
}
