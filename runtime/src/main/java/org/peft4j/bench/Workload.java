package org.peft4j.bench;

import org.peft4j.models.Registry;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.util.List;

/**
 * What the benchmark runs: a model family with one fixed batch, its training loss, its inference
 * forward and its FLOP count. Every case of one run builds a fresh model from the same workload.
 */
public interface Workload extends AutoCloseable {

    /** A name for the table, e.g. "MiniLM classifier" or "small Llama (random init)". */
    String describe();

    /** A fresh model with the workload's starting weights; nothing trainable is decided here. */
    Module newModel() throws IOException;

    /** The training loss of the fixed batch (call inside a gradient collector). */
    ai.djl.ndarray.NDArray loss(Module model);

    /** One inference forward on the fixed batch, forced to finish before it returns. */
    void infer(Module model);

    /** The linears LoRA and AdaLoRA adapt (query/value or q_proj/v_proj). */
    List<String> loraTargets();

    /** Modules trained in full beside the adapter (a fresh classification head), or none. */
    List<String> modulesToSave();

    /** Matrix-multiply FLOPs of one step (see {@link StepFlops}). */
    double flops(Module model, boolean training);

    /** Tokens per step. */
    long tokens();

    /**
     * "llama-small" for {@link LlamaWorkload#SMALL}; otherwise a Hugging Face directory: a classifier
     * when its family builds one, else a causal language model.
     */
    static Workload open(String model, int batch, int seqLen, ai.djl.ndarray.NDManager manager) throws IOException {
        if (model.equals(LlamaWorkload.NAME)) {
            return new LlamaWorkload(LlamaWorkload.SMALL, batch, seqLen, manager);
        }
        java.nio.file.Path dir = java.nio.file.Path.of(model);
        if (!Registry.builds(dir, Task.Kind.SEQUENCE_CLASSIFICATION) && Registry.builds(dir, Task.Kind.CAUSAL_LM)) {
            return new LlamaWorkload(dir, batch, seqLen, manager);
        }
        return new BertWorkload(dir, batch, seqLen, manager);
    }

    /** Frees the fixed batch. */
    @Override
    void close();
}
