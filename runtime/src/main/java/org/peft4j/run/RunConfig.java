package org.peft4j.run;

import org.peft4j.config.ConfigException;
import org.peft4j.data.DataConfig;
import org.peft4j.models.ModelSpec;
import org.peft4j.models.TaskType;
import org.peft4j.peft.adalora.AdaLoraConfig;
import org.peft4j.peft.lora.LoraConfig;
import org.peft4j.tensor.BackendConfig;
import org.peft4j.train.OptimizerConfig;
import org.peft4j.train.ScheduleConfig;
import org.peft4j.train.TrainConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything a fine-tuning run needs, resolved and typed. A recipe builds one; so can Java code.
 *
 * @param name      the recipe's name (used for the run directory)
 * @param lora      a LoRA adapter, or null
 * @param adalora   an AdaLoRA adapter, or null; with neither, every parameter trains (full fine-tuning)
 * @param causalLm  data format, template and sample prompts of a causal-LM task; null for other tasks
 */
public record RunConfig(String name, BackendConfig backend, ModelSpec model, LoraConfig lora, DataConfig data,
                        OptimizerConfig optimizer, ScheduleConfig schedule, TrainConfig train, AdaLoraConfig adalora,
                        CausalLmOptions causalLm) {

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

    public RunConfig withAdalora(AdaLoraConfig a) {
        return new RunConfig(name, backend, model, lora, data, optimizer, schedule, train, a, causalLm);
    }

    public RunConfig withCausalLm(CausalLmOptions options) {
        return new RunConfig(name, backend, model, lora, data, optimizer, schedule, train, adalora, options);
    }

    /** Decoders read far longer sequences than BERT's 512 positions; the model's own limit is checked on loading. */
    static final int CAUSAL_LM_MAX_LENGTH = 1 << 16;

    private boolean causal() {
        return model != null && model.task() == TaskType.CAUSAL_LM;
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
        }
        if (causal() && causalLm == null) {
            p.add("a causalLm task needs its options (data format, template, prompts): build them with CausalLmOptions");
        } else if (causal()) {
            p.addAll(causalLm.validate());
        } else if (causalLm != null) {
            p.add("causal-LM options (instructions/chats/texts files, prompts) are given, but model.task is "
                    + (model == null ? "missing" : model.task()) + "; use task causalLm(...)");
        }
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

    public RunConfig validated() {
        ConfigException.throwIfAny(problems());
        return this;
    }
}
