package org.peft4j.models.core;

import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Module;

import java.util.List;

/**
 * What the families in Llama's layout share: they build {@link DecoderForCausalLM} from a
 * {@link DecoderConfig}, load checkpoints under their own names, and may start from random weights
 * (Transformers' Llama init); each family only reads its config.
 */
public abstract class DecoderFamily implements ModelFamily<DecoderConfig> {

    @Override
    public List<Task.Kind> tasks() {
        return List.of(Task.Kind.CAUSAL_LM);
    }

    @Override
    public List<String> loraTargets() {
        return List.of("q_proj", "v_proj");
    }

    @Override
    public Module build(DecoderConfig config, Task<?> task, NDManager manager) {
        return new DecoderForCausalLM(manager, config);
    }

    @Override
    public CheckpointNames checkpointNames(DecoderConfig config, Task<?> task) {
        return DecoderForCausalLM.checkpointNames(config);
    }

    @Override
    public boolean initializesRandomly() {
        return true;
    }

    @Override
    public double initializerRange(DecoderConfig config) {
        return config.initializerRange();
    }

    /** Adds a problem unless config.json's model_type is one of this family's. */
    protected void requireModelType(ConfigFields f) {
        String type = f.string("model_type", null);
        if (!modelTypes().contains(type)) {
            f.problem("model_type = " + (type == null ? "(missing)" : "'" + type + "'") + " is not supported by the "
                    + name() + " family; valid: '" + String.join("', '", modelTypes()) + "'");
        }
    }
}
