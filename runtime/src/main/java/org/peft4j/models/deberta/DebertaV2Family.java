package org.peft4j.models.deberta;

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
 * DeBERTa-v2 and DeBERTa-v3 ({@code model_type} "deberta-v2"): Hugging Face's sequence classifier
 * ({@link DebertaV2ForSequenceClassification}), or the bare encoder for embeddings.
 */
public final class DebertaV2Family implements ModelFamily<DebertaV2Config> {

    public static final DebertaV2Family INSTANCE = new DebertaV2Family();

    /** The parts of the classification model outside the encoder, each loaded or drawn whole. */
    private static final List<String> HEAD_PARTS = List.of("pooler.", "classifier.");

    /** Masked-LM heads of published checkpoints; no task here uses them. */
    private static final List<String> LM_HEADS = List.of("lm_predictions.", "mask_predictions.", "cls.");

    private DebertaV2Family() {
    }

    @Override
    public String name() {
        return "deberta-v2";
    }

    @Override
    public List<String> modelTypes() {
        return List.of("deberta-v2");
    }

    /** PEFT's default targets for deberta-v2. */
    @Override
    public List<String> loraTargets() {
        return List.of("query_proj", "value_proj");
    }

    /** PEFT's AdaLoRA default for deberta-v2: every projection of the attention and every dense layer. */
    @Override
    public List<String> adaLoraTargets() {
        return List.of("query_proj", "key_proj", "value_proj", "dense");
    }

    @Override
    public List<Task.Kind> tasks() {
        return List.of(Task.Kind.SEQUENCE_CLASSIFICATION, Task.Kind.ENCODER);
    }

    @Override
    public DebertaV2Config readConfig(Path configFile) throws IOException {
        return DebertaV2Config.read(configFile);
    }

    @Override
    public Module build(DebertaV2Config config, Task<?> task, NDManager manager) {
        return task.kind() == Task.Kind.ENCODER ? new DebertaV2Model(manager, config)
                : new DebertaV2ForSequenceClassification(manager, config, task.numLabels());
    }

    /**
     * The encoder's tensors, bare or {@code deberta.}-prefixed, load into the encoder; the classifier
     * also loads {@code pooler.*} and {@code classifier.*}. Masked-LM heads, the position-id buffer and
     * position embeddings a model without absolute positions has no use for (DeBERTa-v3 checkpoints
     * carry them; Transformers ignores them too) are left out.
     */
    @Override
    public CheckpointNames checkpointNames(DebertaV2Config config, Task<?> task) {
        Predicate<String> unused = n -> LM_HEADS.stream().anyMatch(n::startsWith)
                || n.equals("embeddings.position_ids")
                || (!config.positionBiasedInput() && n.startsWith("embeddings.position_embeddings."));
        if (task.kind() == Task.Kind.ENCODER) {
            return CheckpointNames.prefixed("", "deberta.",
                    n -> unused.test(n) || HEAD_PARTS.stream().anyMatch(n::startsWith));
        }
        CheckpointNames encoder = CheckpointNames.prefixed("deberta.", "", unused);
        return CheckpointNames.withHead(encoder, HEAD_PARTS);
    }

    /** A head part the checkpoint has no tensor of is new; one it has half of is refused. */
    @Override
    public Predicate<String> optionalPaths(Task<?> task, CheckpointFiles weights) {
        return weights.lacking(HEAD_PARTS);
    }

    @Override
    public void initialize(Module model, DebertaV2Config config, Task<?> task, List<String> notLoaded,
                           NDManager manager) {
        if (model instanceof DebertaV2ForSequenceClassification classifier && !notLoaded.isEmpty()) {
            classifier.initHead(notLoaded, manager, task.seed());
        }
    }

    @Override
    public double initializerRange(DebertaV2Config config) {
        return config.initializerRange();
    }
}
