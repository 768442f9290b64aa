package org.peft4j.models.roberta;

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
 * RoBERTa and XLM-RoBERTa: Transformers' {@link RobertaForSequenceClassification}, a classifier on the
 * mean of the token states ({@link ClassifierHead#MEAN}), or the bare encoder for embeddings, with
 * its pooler when the checkpoint has one.
 */
public final class RobertaFamily implements ModelFamily<BertConfig> {

    public static final RobertaFamily INSTANCE = new RobertaFamily();

    private static final String POOLER = "pooler.";
    private static final String CLASSIFIER = "classifier.";
    /** The mean head's classifier, a plain Linear; Transformers' head has dense and out_proj below it. */
    private static final List<String> LINEAR_CLASSIFIER = List.of("classifier.weight", "classifier.bias");

    private RobertaFamily() {
    }

    @Override
    public String name() {
        return "roberta";
    }

    @Override
    public List<String> modelTypes() {
        return List.of("roberta", "xlm-roberta");
    }

    @Override
    public List<String> loraTargets() {
        return List.of("query", "value");
    }

    /** PEFT's AdaLoRA default for roberta; PEFT has none for xlm-roberta, which shares the architecture. */
    @Override
    public List<String> adaLoraTargets() {
        return List.of("query", "key", "value", "dense");
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
        boolean pooler = weights.entries().keySet().stream()
                .anyMatch(n -> n.startsWith(POOLER) || n.startsWith("roberta." + POOLER));
        return build(config, task, pooler, manager);
    }

    private static Module build(BertConfig config, Task<?> task, boolean pooler, NDManager manager) {
        if (task.kind() == Task.Kind.ENCODER) {
            return new RobertaModel(manager, config, pooler);
        }
        if (task.head() == ClassifierHead.MEAN) {
            return new MeanPooledClassifier(manager, "roberta", new RobertaModel(manager, config, false),
                    config.hiddenSize(), config.classifierDropout(), task.numLabels());
        }
        return new RobertaForSequenceClassification(manager, config, task.numLabels());
    }

    /**
     * Bare or {@code roberta.}-prefixed names. The masked-LM head and the id buffers are never weights
     * here; the classifiers have no pooler (as Transformers builds them), the encoder no classifier.
     */
    @Override
    public CheckpointNames checkpointNames(BertConfig config, Task<?> task) {
        Predicate<String> buffers = n -> n.startsWith("lm_head.") || n.equals("embeddings.position_ids")
                || n.equals("embeddings.token_type_ids");
        if (task.kind() == Task.Kind.ENCODER) {
            return CheckpointNames.prefixed("", "roberta.", buffers.or(n -> n.startsWith(CLASSIFIER)));
        }
        boolean mean = task.head() == ClassifierHead.MEAN;
        CheckpointNames encoder = CheckpointNames.prefixed("roberta.", "", buffers.or(n -> n.startsWith(POOLER)));
        return new CheckpointNames() {
            @Override
            public String toPath(String name) {
                if (!name.startsWith(CLASSIFIER)) {
                    return encoder.toPath(name);
                }
                // each head reads only its own classifier tensors
                return mean == LINEAR_CLASSIFIER.contains(name) ? name : null;
            }

            @Override
            public String toCheckpoint(String path) {
                return path;
            }
        };
    }

    /** The head is new when the checkpoint has no tensor of it; one it has half of is refused. */
    @Override
    public Predicate<String> optionalPaths(Task<?> task, CheckpointFiles weights) {
        boolean mean = task.head() == ClassifierHead.MEAN;
        boolean hasHead = weights.entries().keySet().stream()
                .anyMatch(n -> n.startsWith(CLASSIFIER) && mean == LINEAR_CLASSIFIER.contains(n));
        return path -> !hasHead && path.startsWith(CLASSIFIER);
    }

    /**
     * Draws a new head as Transformers initialises a Linear: weights N(0, initializer_range²),
     * biases zero; in Java from the task's seed.
     */
    @Override
    public void initialize(Module model, BertConfig config, Task<?> task, List<String> notLoaded, NDManager manager) {
        if (notLoaded.isEmpty()) {
            return;
        }
        Random random = new Random(task.seed());
        double std = config.initializerRange();
        if (model instanceof MeanPooledClassifier mean) {
            HeadInit.linear(mean.classifier(), std, 0, random, manager);
        } else {
            HeadInit.linear((Linear) model.module("classifier.dense"), std, 0, random, manager);
            HeadInit.linear((Linear) model.module("classifier.out_proj"), std, 0, random, manager);
        }
    }
}
