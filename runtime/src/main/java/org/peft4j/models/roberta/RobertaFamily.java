package org.peft4j.models.roberta;

import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.BertConfig;
import org.peft4j.models.core.CheckpointNames;
import org.peft4j.models.core.ModelFamily;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** RoBERTa and XLM-RoBERTa: the bare encoder, for embeddings. */
public final class RobertaFamily implements ModelFamily<BertConfig> {

    public static final RobertaFamily INSTANCE = new RobertaFamily();

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
        return List.of(Task.Kind.ENCODER);
    }

    @Override
    public BertConfig readConfig(Path configFile) throws IOException {
        return BertConfig.read(configFile, modelTypes());
    }

    @Override
    public Module build(BertConfig config, Task<?> task, NDManager manager) {
        return new RobertaModel(manager, config);
    }

    /** Bare or {@code roberta.}-prefixed names; the pooler, task heads and id buffers are not encoder weights. */
    @Override
    public CheckpointNames checkpointNames(BertConfig config, Task<?> task) {
        return CheckpointNames.prefixed("", "roberta.", n -> n.startsWith("pooler.") || n.startsWith("lm_head.")
                || n.startsWith("classifier.") || n.equals("embeddings.position_ids")
                || n.equals("embeddings.token_type_ids"));
    }
}
