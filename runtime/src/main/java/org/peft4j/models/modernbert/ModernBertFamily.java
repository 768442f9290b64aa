package org.peft4j.models.modernbert;

import ai.djl.ndarray.NDManager;
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
 * ModernBERT: Hugging Face's sequence classifier ({@link ModernBertForSequenceClassification}), or the
 * bare encoder for embeddings. Loads bare encoder checkpoints, classifiers, and masked-LM checkpoints
 * (the published ones), whose {@code head} the classifier keeps and whose {@code decoder} it drops.
 */
public final class ModernBertFamily implements ModelFamily<ModernBertConfig> {

    public static final ModernBertFamily INSTANCE = new ModernBertFamily();

    /** The parts of the classification model outside the encoder, each loaded or drawn whole. */
    private static final List<String> HEAD_PARTS = List.of("head.", "classifier.");

    private ModernBertFamily() {
    }

    @Override
    public String name() {
        return "modernbert";
    }

    @Override
    public List<String> modelTypes() {
        return List.of("modernbert");
    }

    /** PEFT names no default for ModernBERT; its fused attention projection plays BERT's query and value. */
    @Override
    public List<String> loraTargets() {
        return List.of("Wqkv");
    }

    @Override
    public List<Task.Kind> tasks() {
        return List.of(Task.Kind.SEQUENCE_CLASSIFICATION, Task.Kind.ENCODER);
    }

    @Override
    public ModernBertConfig readConfig(Path configFile) throws IOException {
        return ModernBertConfig.read(configFile);
    }

    @Override
    public Module build(ModernBertConfig config, Task<?> task, NDManager manager) {
        return task.kind() == Task.Kind.ENCODER ? new ModernBertModel(manager, config)
                : new ModernBertForSequenceClassification(manager, config, task.numLabels());
    }

    /**
     * The encoder's tensors, bare or {@code model.}-prefixed, load into the encoder; the classifier
     * also loads {@code head.*} and {@code classifier.*}. The masked-LM {@code decoder} is never used.
     */
    @Override
    public CheckpointNames checkpointNames(ModernBertConfig config, Task<?> task) {
        Predicate<String> notEncoder = n -> n.startsWith("decoder.") || HEAD_PARTS.stream().anyMatch(n::startsWith);
        if (task.kind() == Task.Kind.ENCODER) {
            return CheckpointNames.prefixed("", "model.", notEncoder);
        }
        CheckpointNames encoder = CheckpointNames.prefixed("model.", "", n -> n.startsWith("decoder."));
        return CheckpointNames.withHead(encoder, HEAD_PARTS);
    }

    /** A head part the checkpoint has no tensor of is new; one it has half of is refused. */
    @Override
    public Predicate<String> optionalPaths(Task<?> task, CheckpointFiles weights) {
        return weights.lacking(HEAD_PARTS);
    }

    @Override
    public void initialize(Module model, ModernBertConfig config, Task<?> task, List<String> notLoaded,
                           NDManager manager) {
        if (model instanceof ModernBertForSequenceClassification classifier && !notLoaded.isEmpty()) {
            classifier.initHead(notLoaded, manager, task.seed());
        }
    }

    @Override
    public double initializerRange(ModernBertConfig config) {
        return config.initializerRange();
    }
}
