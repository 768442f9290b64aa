package org.peft4j.models.core;

import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Backend;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

/**
 * One model family: the {@code config.json} model types it serves, its typed config, the models it
 * builds for each task it supports, and how its checkpoint names map onto module paths. Loading
 * (files, shards, checks) is written once, over this contract; a family writes only what differs.
 *
 * @param <C> the family's typed config
 */
public interface ModelFamily<C extends ModelConfig> {

    /** The family's name, for messages ("llama"). */
    String name();

    /** The {@code model_type} values it serves. */
    List<String> modelTypes();

    /**
     * The modules LoRA adapts when a recipe names none: PEFT's default for the family's model types
     * ({@code TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING}), or, for a family PEFT gives none,
     * peft4j's own choice, which {@code docs/models.md} lists. Names are matched as PEFT matches
     * {@code target_modules}: a module path or its last dotted parts.
     */
    List<String> loraTargets();

    /**
     * The modules AdaLoRA adapts when a recipe names none: PEFT's
     * {@code TRANSFORMERS_MODELS_TO_ADALORA_TARGET_MODULES_MAPPING}, which differs from LoRA's for some
     * families (RoBERTa, DeBERTa-v2 add the key and every dense layer); LoRA's where it does not.
     */
    default List<String> adaLoraTargets() {
        return loraTargets();
    }

    /** The tasks it builds; the first is what {@code peft4j inspect} shows. */
    List<Task.Kind> tasks();

    /**
     * Reads and validates a {@code config.json} (Transformers 4.x and 5.x field names); every
     * problem, a model_type this family does not serve included, is reported at once.
     *
     * @throws org.peft4j.config.ConfigException listing the problems, each with the file
     */
    C readConfig(Path configFile) throws IOException;

    /** The model for {@code task} with placeholder weights; {@code task} is one of {@link #tasks()}. */
    Module build(C config, Task<?> task, NDManager manager);

    /**
     * The model for {@code task} shaped after what {@code weights} holds, where the layout depends on
     * it (BERT's encoder has a pooler when its checkpoint has one); by default
     * {@link #build(ModelConfig, Task, NDManager)}.
     */
    default Module build(C config, Task<?> task, CheckpointFiles weights, NDManager manager) {
        return build(config, task, manager);
    }

    /** The classifier heads it builds ({@link Task#head()}); by default only the Transformers head. */
    default List<ClassifierHead> heads() {
        return List.of(ClassifierHead.TRANSFORMERS);
    }

    /** Checkpoint names of the model {@link #build} makes for {@code task}. */
    CheckpointNames checkpointNames(C config, Task<?> task);

    /** Parameters {@code weights} may lack (a task head that is new); by default none. */
    default Predicate<String> optionalPaths(Task<?> task, CheckpointFiles weights) {
        return path -> false;
    }

    /**
     * Gives the parameters the checkpoint lacked their starting values (a new head drawn from the
     * task's seed); by default nothing.
     */
    default void initialize(Module model, C config, Task<?> task, List<String> notLoaded, NDManager manager) {
    }

    /**
     * The weights {@code dir} holds for {@code task}: its {@code model.safetensors} or shards; a family
     * adds weights a layout keeps elsewhere (a mean-pooled classifier in sentence-transformers' Dense).
     */
    default CheckpointFiles weights(Path dir, Task<?> task) throws IOException {
        return CheckpointFiles.open(dir);
    }

    /** The typed config of a model directory. */
    default C configOf(Path dir) throws IOException {
        return readConfig(WeightLoader.requireFile(dir, "config.json", "the model configuration"));
    }

    /**
     * Loads a Hugging Face directory for {@code task}: its config, then the weights (one
     * {@code model.safetensors} or the shards of {@code model.safetensors.index.json}; f32, f16 or bf16
     * on disk, f32 in memory), checked against the model before a byte is read.
     *
     * @throws IllegalArgumentException when the family does not build {@code task}
     */
    default <M> M load(Path dir, Task<M> task) throws IOException {
        C config = configOf(dir);
        CheckpointFiles weights = weights(dir, task);
        NDManager manager = Backend.get().manager();
        Module model = build(config, requireTask(task), weights, manager);
        try {
            WeightLoader.LoadReport report = WeightLoader.load(model, weights, checkpointNames(config, task)::toPath,
                    optionalPaths(task, weights), manager);
            initialize(model, config, task, report.notLoaded(), manager);
        } catch (IOException | RuntimeException e) {
            // the parameters live in the engine's long-lived manager
            model.namedParameters().values().forEach(p -> p.value().close());
            throw e;
        }
        return task.type().cast(model);
    }

    /**
     * The model for {@code task} in the shape of {@code dir}'s config.json with random weights
     * ({@link RandomInit}, σ = the config's initializer_range), for training from scratch; the
     * directory needs no weights.
     *
     * @throws IllegalArgumentException when this family does not start from random weights
     */
    default <M> M random(Path dir, Task<M> task, long seed) throws IOException {
        if (!initializesRandomly()) {
            throw new IllegalArgumentException(dir.resolve("config.json") + ": model_type '" + name()
                    + "' cannot start from random weights here");
        }
        C config = configOf(dir);
        NDManager manager = Backend.get().manager();
        Module model = build(config, requireTask(task), manager);
        Backend.get().seed(seed);
        RandomInit.apply(model, initializerRange(config), manager);
        return task.type().cast(model);
    }

    /** σ of random initialisation. */
    default double initializerRange(C config) {
        return RandomInit.DEFAULT_STD;
    }

    /** {@code task}, when this family builds it (with its head, for a classifier). */
    default <M> Task<M> requireTask(Task<M> task) {
        if (!tasks().contains(task.kind())) {
            throw new IllegalArgumentException("a " + name() + " model cannot be loaded as a " + task.kind().label()
                    + "; it is a " + String.join(" or ", tasks().stream().map(Task.Kind::label).toList()));
        }
        if (task.head() != null && !heads().contains(task.head())) {
            throw new IllegalArgumentException("a " + name() + " sequence classifier has no '" + task.head().label()
                    + "' head; valid: " + String.join(", ", heads().stream().map(h -> "'" + h.label() + "'").toList()));
        }
        return task;
    }

    /** Whether {@code init 'random'} may build this family from its config alone (Transformers' own init). */
    default boolean initializesRandomly() {
        return false;
    }
}
