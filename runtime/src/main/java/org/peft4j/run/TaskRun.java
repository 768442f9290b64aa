package org.peft4j.run;

import org.peft4j.nn.Module;
import org.peft4j.train.TrainBatch;
import org.peft4j.train.TrainingData;
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

    TrainingObjective<B> objective();

    /** Shuffled training batches of {@code batchSize}, reproducible from {@code seed}. */
    TrainingData<B> trainingData(int batchSize, long seed);

    /** Per split ("train", "valid", "test"): examples, tokens and the task's own counts. */
    Map<String, Map<String, Long>> splitStats();

    /** The evaluation splits this run has, of "valid" and "test". */
    List<String> evalSplits();

    /** Metrics of a whole split, without an autograd graph and with dropout off. */
    Map<String, Double> evaluate(String split, int batchSize);

    /** PEFT's task_type of the saved adapter ("SEQ_CLS", "CAUSAL_LM"). */
    String peftTaskType();

    /** Saves a fully fine-tuned model into the run directory {@code runDir}; returns where. */
    Path saveFull(Path runDir, Path adapterDir) throws IOException;

    /** Outputs worth reading for the recipe's sample prompts, in their order; empty when the task has none. */
    default List<String> samples() {
        return List.of();
    }

    /** The sample prompts, in the order of {@link #samples()}. */
    default List<String> samplePrompts() {
        return List.of();
    }

    /** Frees what the task holds besides parameters (tokenizers). */
    @Override
    void close();
}
