package org.peft4j.models.core;

import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Module;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;

/**
 * What the families in Llama's layout share: they build {@link DecoderForCausalLM} or Transformers'
 * sequence classifier ({@link DecoderForSequenceClassification}: {@code model} and {@code score})
 * from a {@link DecoderConfig}, load checkpoints under their own names, and may start from random
 * weights (Transformers' Llama init); each family only reads its config.
 */
public abstract class DecoderFamily implements ModelFamily<DecoderConfig> {

    /** The Transformers class names' stems by model_type, where they are not the type capitalised. */
    private static final Map<String, String> CLASS_STEMS = Map.of("gemma3_text", "Gemma3Text", "smollm3", "SmolLM3");

    @Override
    public List<Task.Kind> tasks() {
        return List.of(Task.Kind.CAUSAL_LM, Task.Kind.SEQUENCE_CLASSIFICATION);
    }

    @Override
    public List<String> loraTargets() {
        return List.of("q_proj", "v_proj");
    }

    @Override
    public Module build(DecoderConfig config, Task<?> task, NDManager manager) {
        if (task.kind() == Task.Kind.SEQUENCE_CLASSIFICATION) {
            return new DecoderForSequenceClassification(manager, "model", new DecoderModel(manager, config),
                    config.hiddenSize(), task.numLabels(), config.common().padTokenId(), classifierArchitecture(config));
        }
        return new DecoderForCausalLM(manager, config);
    }

    /** The Transformers class of this family's sequence classifier ("LlamaForSequenceClassification"). */
    protected String classifierArchitecture(DecoderConfig config) {
        String type = config.modelType();
        String stem = CLASS_STEMS.getOrDefault(type, Character.toUpperCase(type.charAt(0)) + type.substring(1));
        return stem + "ForSequenceClassification";
    }

    /** The module paths, less old rotary buffers and the language-model head a classifier does not have. */
    @Override
    public CheckpointNames checkpointNames(DecoderConfig config, Task<?> task) {
        if (task.kind() == Task.Kind.SEQUENCE_CLASSIFICATION) {
            return CheckpointNames.dropping(name -> name.endsWith(".rotary_emb.inv_freq") || name.startsWith("lm_head."));
        }
        return DecoderForCausalLM.checkpointNames(config);
    }

    /** A causal LM's checkpoint has no {@code score}: the classifier's is then new. */
    @Override
    public Predicate<String> optionalPaths(Task<?> task, CheckpointFiles weights) {
        return optionalScore(task, weights);
    }

    /** {@code score.*} when the checkpoint has none (shared with GPT-2). */
    public static Predicate<String> optionalScore(Task<?> task, CheckpointFiles weights) {
        boolean hasScore = weights.entries().containsKey("score.weight");
        return path -> task.kind() == Task.Kind.SEQUENCE_CLASSIFICATION && !hasScore && path.startsWith("score.");
    }

    @Override
    public void initialize(Module model, DecoderConfig config, Task<?> task, List<String> notLoaded, NDManager manager) {
        initializeScore(model, config.initializerRange(), task, notLoaded, manager);
    }

    /**
     * A new {@code score} drawn as Transformers initialises a Linear, N(0, initializer_range²), in
     * Java from the task's seed (shared with GPT-2).
     */
    public static void initializeScore(Module model, double std, Task<?> task, List<String> notLoaded,
                                       NDManager manager) {
        if (model instanceof DecoderForSequenceClassification classifier
                && notLoaded.stream().anyMatch(p -> p.startsWith("score."))) {
            HeadInit.linear(classifier.score(), std, 0, new Random(task.seed()), manager);
        }
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
