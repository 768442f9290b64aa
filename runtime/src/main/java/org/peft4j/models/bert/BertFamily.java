package org.peft4j.models.bert;

import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.BertConfig;
import org.peft4j.models.core.CheckpointFiles;
import org.peft4j.models.core.CheckpointNames;
import org.peft4j.models.core.ModelFamily;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

/**
 * BERT (and MiniLM, which is a BERT): a sequence classifier over the mean of the token states, or
 * the bare encoder for embeddings.
 */
public final class BertFamily implements ModelFamily<BertConfig> {

    public static final BertFamily INSTANCE = new BertFamily();

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
    public BertConfig readConfig(Path configFile) throws IOException {
        return BertConfig.read(configFile, modelTypes());
    }

    @Override
    public Module build(BertConfig config, Task<?> task, NDManager manager) {
        return task.kind() == Task.Kind.ENCODER ? new BertModel(manager, config)
                : new BertForSequenceClassification(manager, config, task.numLabels());
    }

    /**
     * Checkpoints of a bare BertModel and of a task model ({@code bert.}-prefixed) both load; the CLS
     * pooler is not used (the head mean-pools), and position_ids is a buffer, not a weight.
     */
    @Override
    public CheckpointNames checkpointNames(BertConfig config, Task<?> task) {
        Predicate<String> unused = n -> n.startsWith("pooler.") || n.equals("embeddings.position_ids");
        if (task.kind() == Task.Kind.ENCODER) {
            return CheckpointNames.prefixed("", "bert.", unused);
        }
        CheckpointNames encoder = CheckpointNames.prefixed("bert.", "", unused);
        return new CheckpointNames() {
            @Override
            public String toPath(String name) {
                return name.startsWith("classifier.") ? name : encoder.toPath(name);
            }

            @Override
            public String toCheckpoint(String path) {
                return path;
            }
        };
    }

    /** A checkpoint without {@code classifier.*} gets a new head; one with half a head is refused. */
    @Override
    public Predicate<String> optionalPaths(Task<?> task, CheckpointFiles weights) {
        boolean hasHead = weights.entries().keySet().stream().anyMatch(n -> n.startsWith("classifier."));
        return path -> !hasHead && path.startsWith("classifier.");
    }

    @Override
    public void initialize(Module model, BertConfig config, Task<?> task, List<String> notLoaded, NDManager manager) {
        if (model instanceof BertForSequenceClassification classifier && !notLoaded.isEmpty()) {
            classifier.initClassifier(manager, config.initializerRange(), task.seed());
        }
    }
}
