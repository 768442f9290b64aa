package org.peft4j.models.gpt2;

import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.CheckpointNames;
import org.peft4j.models.core.ModelFamily;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** GPT-2: a causal language model with learned positions and its head tied to the token embedding. */
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
        return List.of(Task.Kind.CAUSAL_LM);
    }

    @Override
    public GPT2Config readConfig(Path configFile) throws IOException {
        return GPT2Config.read(configFile);
    }

    @Override
    public Module build(GPT2Config config, Task<?> task, NDManager manager) {
        return new GPT2LMHeadModel(manager, config);
    }

    /**
     * The hub's {@code gpt2} names its tensors without the {@code transformer.} prefix that
     * GPT2LMHeadModel saves; both load. The causal-mask buffers ({@code attn.bias},
     * {@code attn.masked_bias}) and a stored copy of the tied head are not used.
     */
    @Override
    public CheckpointNames checkpointNames(GPT2Config config, Task<?> task) {
        return CheckpointNames.prefixed("transformer.", "", n -> n.equals("lm_head.weight")
                || n.endsWith(".attn.bias") || n.endsWith(".attn.masked_bias"));
    }
}
