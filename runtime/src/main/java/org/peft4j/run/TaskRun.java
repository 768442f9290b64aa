package org.peft4j.run;

import org.peft4j.data.Shard;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.train.StepHook;
import org.peft4j.train.TrainBatch;
import org.peft4j.train.TrainingData;
import org.peft4j.train.TrainingListener;
import org.peft4j.train.TrainingObjective;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One task's side of a run: its model, loss, data, evaluation and what it saves. {@link RunSession}
 * does the rest (engine, adapters, trainable parameters, the plan), the same for every task.
 *
 * @param <B> the task's batch
 */
interface TaskRun<B extends TrainBatch> extends AutoCloseable {

    /** The whole model, adapters are injected into it. */
    Module model();

    /**
     * A second copy of the base model exactly as this run loaded it (a new head from the same seed), without
     * adapters, so that a saved adapter can be loaded into it and compared.
     */
    Module loadBase() throws IOException;

    /**
     * The task's outputs (logits; an embedding run's sentence vectors) of {@code model}, this model or one
     * from {@link #loadBase}, for the first {@code n} training examples: one row per example, computed without
     * an autograd graph and with dropout off.
     */
    float[][] outputs(Module model, int n);

    /** What the plan says after the model directory, e.g. " (mean pooling, infonce loss)"; empty by default. */
    default String modelNote() {
        return "";
    }

    TrainingObjective<B> objective();

    /** Shuffled training batches of {@code batchSize}, reproducible from {@code seed}. */
    default TrainingData<B> trainingData(int batchSize, long seed) {
        return trainingData(batchSize, seed, Shard.WHOLE);
    }

    /**
     * The same batches as {@link #trainingData(int, long)}, each cut to {@code shard}'s rows: a worker's share
     * of every global batch of {@code batchSize}.
     */
    TrainingData<B> trainingData(int batchSize, long seed, Shard shard);

    /** Per split ("train", "valid", "test"): examples, tokens and the task's own counts. */
    Map<String, Map<String, Long>> splitStats();

    /** The evaluations this run has, in order: "valid" and "test", or an embedding run's "retrieval" and "sts". */
    List<String> evalSplits();

    /** The evaluations that also run every {@code train.evalEvery} steps: the validation split. */
    default List<String> evalDuringTraining() {
        return evalSplits().contains("valid") ? List.of("valid") : List.of();
    }

    /** The progress line announcing an evaluation of {@code split} made {@code when} ("before", "after"). */
    default String evalPhase(String split, String when) {
        return "evaluating on " + split + " (" + when + ")";
    }

    /** Metrics of a whole split, without an autograd graph and with dropout off. */
    Map<String, Double> evaluate(String split, int batchSize);

    /** Work of the task inside every optimizer step, or null; called once, after adapters are in place. */
    default StepHook stepHook(List<Parameter> trainable, TrainingListener listener) {
        return null;
    }

    /** The task's own entries of summary.json (after training), e.g. an embedding run's loss; empty by default. */
    default Map<String, Object> summary() {
        return Map.of();
    }

    /** PEFT's task_type of the saved adapter ("SEQ_CLS", "CAUSAL_LM", "FEATURE_EXTRACTION"). */
    String peftTaskType();

    /** Saves a fully fine-tuned model into the run directory {@code runDir}; returns where. */
    Path saveFull(Path runDir, Path adapterDir) throws IOException;

    /** What the task keeps beside its saved adapter or model in {@code dir}: a classifier its class names. */
    default void saveBeside(Path dir) throws IOException {
    }

    /**
     * Refuses, once adapters are in place, a run whose new weights would not train; by default
     * nothing to check.
     *
     * @throws org.peft4j.config.ConfigException naming what to train
     */
    default void checkTrainable() {
    }

    /** Outputs worth reading for the recipe's sample prompts, in their order; empty when the task has none. */
    default List<String> samples() {
        return List.of();
    }

    /** The sample prompts, in the order of {@link #samples()}. */
    default List<String> samplePrompts() {
        return List.of();
    }

    /** The class names in class-id order when the task classifies; empty otherwise. */
    default List<String> labels() {
        return List.of();
    }

    /**
     * The model's logits for each of {@code texts}, one row of {@link #labels()} per text, tokenized as the training
     * data was, without an autograd graph and with dropout off.
     *
     * @throws UnsupportedOperationException when the task does not classify
     */
    default float[][] logits(List<String> texts) {
        throw new UnsupportedOperationException("predict is for classification runs; this run's task is "
                + peftTaskType() + " (a causal language model generates: generate)");
    }

    /**
     * The model's greedy continuation of {@code prompt}, under the recipe's chat template when it has one, as the
     * run's sample prompts are continued.
     *
     * @throws UnsupportedOperationException when the task does not generate
     */
    default String generate(String prompt, int maxNewTokens) {
        throw new UnsupportedOperationException("generate is for causal language models; this run's task is "
                + peftTaskType() + (labels().isEmpty() ? "" : " (a classifier predicts: predict)"));
    }

    /** Frees what the task holds besides parameters (tokenizers). */
    @Override
    void close();
}
