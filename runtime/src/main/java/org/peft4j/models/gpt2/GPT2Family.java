package org.peft4j.models.gpt2;

import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.CheckpointFiles;
import org.peft4j.models.core.CheckpointNames;
import org.peft4j.models.core.DecoderFamily;
import org.peft4j.models.core.DecoderForSequenceClassification;
import org.peft4j.models.core.ModelFamily;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

/**
 * GPT-2: a causal language model with learned positions and its head tied to the token embedding,
 * or Transformers' {@code GPT2ForSequenceClassification} ({@code transformer} and {@code score}).
 */
public final class GPT2Family implements ModelFamily<GPT2Config> {

    public static final GPT2Family INSTANCE = new GPT2Family();

    private GPT2Family() {
    }

    @Override
    public String name() {
        return "gpt2";
    }

    @Override
    public List<String> modelTypes() {
        return List.of("gpt2");
    }

    @Override
    public List<String> loraTargets() {
        return List.of("c_attn");
    }

    @Override
    public List<Task.Kind> tasks() {
        return List.of(Task.Kind.CAUSAL_LM, Task.Kind.SEQUENCE_CLASSIFICATION);
    }

    @Override
    public GPT2Config readConfig(Path configFile) throws IOException {
        return GPT2Config.read(configFile);
    }

    @Override
    public Module build(GPT2Config config, Task<?> task, NDManager manager) {
        if (task.kind() == Task.Kind.SEQUENCE_CLASSIFICATION) {
            return new DecoderForSequenceClassification(manager, "transformer", new GPT2Model(manager, config),
                    config.nEmbd(), task.numLabels(), config.common().padTokenId(), "GPT2ForSequenceClassification");
        }
        return new GPT2LMHeadModel(manager, config);
    }

    /**
     * The hub's {@code gpt2} names its tensors without the {@code transformer.} prefix that
     * GPT2LMHeadModel saves; both load. The causal-mask buffers ({@code attn.bias},
     * {@code attn.masked_bias}) and a stored copy of the tied head are not used; a classifier's
     * {@code score} keeps its name.
     */
    @Override
    public CheckpointNames checkpointNames(GPT2Config config, Task<?> task) {
        CheckpointNames body = CheckpointNames.prefixed("transformer.", "", n -> n.equals("lm_head.weight")
                || n.endsWith(".attn.bias") || n.endsWith(".attn.masked_bias"));
        if (task.kind() != Task.Kind.SEQUENCE_CLASSIFICATION) {
            return body;
        }
        return new CheckpointNames() {
            @Override
            public String toPath(String name) {
                return name.startsWith("score.") ? name : body.toPath(name);
            }

            @Override
            public String toCheckpoint(String path) {
                return path;
            }
        };
    }

    @Override
    public Predicate<String> optionalPaths(Task<?> task, CheckpointFiles weights) {
        return DecoderFamily.optionalScore(task, weights);
    }

    @Override
    public void initialize(Module model, GPT2Config config, Task<?> task, List<String> notLoaded, NDManager manager) {
        DecoderFamily.initializeScore(model, initializerRange(config), task, notLoaded, manager);
    }
}
