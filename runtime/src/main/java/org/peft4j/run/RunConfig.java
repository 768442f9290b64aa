package org.peft4j.run;

import org.peft4j.config.ConfigException;
import org.peft4j.data.DataConfig;
import org.peft4j.models.ModelSpec;
import org.peft4j.models.TaskType;
import org.peft4j.models.core.ModelFamily;
import org.peft4j.peft.adalora.AdaLoraConfig;
import org.peft4j.peft.lora.LoraConfig;
import org.peft4j.tensor.BackendConfig;
import org.peft4j.train.OptimizerConfig;
import org.peft4j.train.ScheduleConfig;
import org.peft4j.train.TrainConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Everything a fine-tuning run needs, resolved and typed, for every task: classification, causal LM
 * and sentence embeddings. A recipe builds one; so can Java code.
 *
 * @param name      the recipe's name (used for the run directory)
 * @param lora      a LoRA adapter, or null
 * @param adalora   an AdaLoRA adapter, or null; with neither, every parameter trains (full fine-tuning)
 * @param causalLm  data format, template and sample prompts of a causal-LM task; null for other tasks
 * @param embedding pooling, loss and temperature of an embedding task; null for other tasks
 */
public record RunConfig(String name, BackendConfig backend, ModelSpec model, LoraConfig lora, DataConfig data,
                        OptimizerConfig optimizer, ScheduleConfig schedule, TrainConfig train, AdaLoraConfig adalora,
                        CausalLmOptions causalLm, EmbeddingOptions embedding) {

    /** A run of a classification or causal-LM task. */
    public RunConfig(String name, BackendConfig backend, ModelSpec model, LoraConfig lora, DataConfig data,
                     OptimizerConfig optimizer, ScheduleConfig schedule, TrainConfig train, AdaLoraConfig adalora,
                     CausalLmOptions causalLm) {
        this(name, backend, model, lora, data, optimizer, schedule, train, adalora, causalLm, null);
    }

    /** A run of a task without causal-LM options (classification). */
    public RunConfig(String name, BackendConfig backend, ModelSpec model, LoraConfig lora, DataConfig data,
                     OptimizerConfig optimizer, ScheduleConfig schedule, TrainConfig train, AdaLoraConfig adalora) {
        this(name, backend, model, lora, data, optimizer, schedule, train, adalora, null);
    }

    /** A run with a LoRA adapter or none. */
    public RunConfig(String name, BackendConfig backend, ModelSpec model, LoraConfig lora, DataConfig data,
                     OptimizerConfig optimizer, ScheduleConfig schedule, TrainConfig train) {
        this(name, backend, model, lora, data, optimizer, schedule, train, null);
    }

    /** A sentence-embedding run (LoRA or, with {@code lora} null, every weight). */
    public static RunConfig embedding(String name, BackendConfig backend, ModelSpec model, EmbeddingOptions embedding,
                                      LoraConfig lora, DataConfig data, OptimizerConfig optimizer,
                                      ScheduleConfig schedule, TrainConfig train) {
        return new RunConfig(name, backend, model, lora, data, optimizer, schedule, train, null, null, embedding);
    }

    /** An adalora block in an embedding recipe; the DSL says it too when a lora block keeps adalora from reaching here. */
    public static final String ADALORA_IN_EMBEDDING = "adalora { } is not available for embedding tasks; use lora { },"
            + " or neither to train every weight";

    /** Decoders read far longer sequences than BERT's 512 positions; the model's own limit is checked on loading. */
    static final int CAUSAL_LM_MAX_LENGTH = 1 << 16;

    private boolean causal() {
        return task() == TaskType.CAUSAL_LM;
    }

    /**
     * This config with the model family's default targets ({@link ModelFamily#loraTargets},
     * {@link ModelFamily#adaLoraTargets}) in an adapter block that names none, as PEFT fills an empty
     * target_modules; unchanged when the block names its targets or the family cannot be told yet.
     */
    public RunConfig withDefaultTargets() {
        boolean loraNone = lora != null && lora.targeting().choosesNone();
        boolean adaNone = adalora != null && adalora.targeting().choosesNone();
        Optional<ModelFamily<?>> family = (loraNone || adaNone) && model != null ? model.family() : Optional.empty();
        if (family.isEmpty()) {
            return this;
        }
        ModelFamily<?> f = family.get();
        return new RunConfig(name, backend, model, loraNone ? lora.withDefaultTargets(f.loraTargets()) : lora, data,
                optimizer, schedule, train, adaNone ? adalora.withDefaultTargets(f.adaLoraTargets()) : adalora,
                causalLm, embedding);
    }

    /** The model's task, or null when the model is missing. */
    public TaskType task() {
        return model == null ? null : model.task();
    }

    /** Every problem of every part, together. */
    public List<String> problems() {
        List<String> p = new ArrayList<>();
        if (name == null || !name.matches("[A-Za-z0-9._-]+")) {
            p.add("recipe name '" + name + "' must be letters, digits, '.', '_' or '-' (it names the run directory)");
        }
        if (model == null) {
            p.add("the model block is missing: model { source 'minilm'; task classification(labels: [...]) }");
        } else {
            p.addAll(model.validate());
        }
        if (lora != null) {
            p.addAll(lora.validate());
        }
        if (adalora != null && adalora.targeting().choosesNone()) {
            p.add("adalora.target is missing: name the modules to adapt, e.g. target 'query', 'value'");
        }
        String precision = backend == null ? null : HalfPrecision.problem(backend.dtype(), lora == null && adalora == null);
        if (precision != null) {
            p.add(precision);
        }
        if (lora != null && adalora != null) {
            p.add("a recipe has either a lora block or an adalora block, not both; remove one");
        }
        if (data == null) {
            p.add("the data block is missing: data { train jsonl('train.jsonl') }");
        } else {
            p.addAll(causal() ? data.validate(CAUSAL_LM_MAX_LENGTH) : data.validate());
            p.addAll(filesOfOtherTasks());
        }
        if (causal() && causalLm == null) {
            p.add("a causalLm task needs its options (data format, template, prompts): build them with CausalLmOptions");
        } else if (causal()) {
            p.addAll(causalLm.validate());
        } else if (causalLm != null) {
            p.add("causal-LM options (instructions/chats/texts files, prompts) are given, but model.task is "
                    + (model == null ? "missing" : model.task()) + "; use task causalLm(...)");
        }
        p.addAll(embeddingProblems());
        if (optimizer != null) {
            p.addAll(optimizer.validate());
        }
        if (schedule != null) {
            p.addAll(schedule.validate());
        }
        if (train != null) {
            p.addAll(train.validate());
            if (train.bestMetric() != null && data != null && data.valid() == null) {
                p.add("train.bestMetric = '" + train.bestMetric() + "' is measured on the validation set, but data.valid"
                        + " is missing; add valid jsonl('...') to the data block");
            }
        }
        return p;
    }

    /** Evaluation files that the task does not read: they would be ignored without a word. */
    private List<String> filesOfOtherTasks() {
        List<String> p = new ArrayList<>();
        if (task() == TaskType.EMBEDDING) {
            String why = " is for classification; an embedding task evaluates on queries and corpus (retrieval) and sts"
                    + " (scored pairs)";
            unread(p, "valid", data.valid(), why);
            unread(p, "test", data.test(), why);
        } else if (task() != null) {
            String why = " is for an embedding task (model { task embedding(...) }); a "
                    + task().name().toLowerCase(Locale.ROOT).replace('_', '-') + " task evaluates on valid and test";
            unread(p, "queries", data.queries(), why);
            unread(p, "corpus", data.corpus(), why);
            unread(p, "sts", data.scored(), why);
        }
        return p;
    }

    private static void unread(List<String> problems, String field, Path file, String why) {
        if (file != null) {
            problems.add("data." + field + why);
        }
    }

    /** An embedding task's options, its adapter and the batch its loss needs. */
    private List<String> embeddingProblems() {
        List<String> p = new ArrayList<>();
        boolean embeddingTask = task() == TaskType.EMBEDDING;
        if (embeddingTask && embedding == null) {
            p.add("an embedding task needs its options (pooling, loss, temperature): build them with EmbeddingOptions");
        } else if (!embeddingTask && embedding != null) {
            p.add("embedding options (pooling, loss, temperature) are given, but model.task is "
                    + (model == null ? "missing" : model.task()) + "; use task embedding(...)");
        }
        if (!embeddingTask || embedding == null) {
            return p;
        }
        p.addAll(embedding.validate());
        if (adalora != null) {
            p.add(ADALORA_IN_EMBEDDING);
        }
        if (train != null && embedding.inBatchNegatives() && train.batchSize() < 2) {
            p.add("train.batchSize = " + train.batchSize() + " must be >= 2 for " + embedding.loss()
                    + ": the other rows of the batch are the negatives");
        }
        return p;
    }

    /** This config with its family's default targets ({@link #withDefaultTargets}), every problem checked. */
    public RunConfig validated() {
        RunConfig resolved = withDefaultTargets();
        ConfigException.throwIfAny(resolved.problems());
        return resolved;
    }
}
