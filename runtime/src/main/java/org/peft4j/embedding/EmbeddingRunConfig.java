package org.peft4j.embedding;

import org.peft4j.config.ConfigException;
import org.peft4j.models.ModelSpec;
import org.peft4j.peft.lora.LoraConfig;
import org.peft4j.run.HalfPrecision;
import org.peft4j.tensor.BackendConfig;
import org.peft4j.train.OptimizerConfig;
import org.peft4j.train.ScheduleConfig;
import org.peft4j.train.TrainConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything a sentence-embedding fine-tuning run needs, typed and validated together.
 *
 * @param name        names the run (letters, digits, '.', '_', '-')
 * @param model       an embedded model name ("minilm") or a Hugging Face directory (BERT or RoBERTa)
 * @param pooling     how token states become the sentence vector
 * @param lora        the adapter, or null to train every weight
 * @param loss        the objective, which also fixes the training-data format
 * @param temperature τ of InfoNCE / SimCSE (ignored by COSINE); 0.05 as in SimCSE
 */
public record EmbeddingRunConfig(String name, BackendConfig backend, String model, PoolingMode pooling,
                                 LoraConfig lora, LossKind loss, double temperature, EmbeddingDataConfig data,
                                 OptimizerConfig optimizer, ScheduleConfig schedule, TrainConfig train) {

    /** True when {@link #model} names an embedded model rather than a directory. */
    public boolean embeddedModel() {
        return model != null && ModelSpec.EMBEDDED.contains(model);
    }

    public List<String> problems() {
        List<String> p = new ArrayList<>();
        if (name == null || !name.matches("[A-Za-z0-9._-]+")) {
            p.add("run name '" + name + "' must be letters, digits, '.', '_' or '-'");
        }
        if (model == null || model.isBlank()) {
            p.add("model is missing: an embedded model " + ModelSpec.EMBEDDED + " or a Hugging Face directory");
        } else if (!embeddedModel() && !Path.of(model).toFile().isDirectory()) {
            p.add("model '" + model + "' is neither an embedded model " + ModelSpec.EMBEDDED
                    + " nor a directory");
        }
        if (pooling == null) {
            p.add("pooling is missing; valid: MEAN, CLS");
        }
        if (loss == null) {
            p.add("loss is missing; valid: INFONCE, SIMCSE, COSINE");
        }
        if (loss != LossKind.COSINE && !(temperature > 0 && temperature <= 1)) {
            p.add("temperature = " + temperature + " must be in (0, 1]; SimCSE uses 0.05");
        }
        if (lora != null) {
            p.addAll(lora.validate());
        }
        String precision = backend == null ? null : HalfPrecision.problem(backend.dtype(), lora == null);
        if (precision != null) {
            p.add(precision);
        }
        if (data == null) {
            p.add("data is missing");
        } else {
            p.addAll(data.validate());
        }
        for (var part : new Object[] {optimizer, schedule, train}) {
            if (part == null) {
                p.add("optimizer, schedule and train must all be given");
                break;
            }
        }
        if (optimizer != null) {
            p.addAll(optimizer.validate());
        }
        if (schedule != null) {
            p.addAll(schedule.validate());
        }
        if (train != null) {
            p.addAll(train.validate());
            if (loss != LossKind.COSINE && train.batchSize() < 2) {
                p.add("train.batchSize = " + train.batchSize() + " must be >= 2 for " + loss
                        + ": the other rows of the batch are the negatives");
            }
        }
        return p;
    }

    public EmbeddingRunConfig validated() {
        ConfigException.throwIfAny(problems());
        return this;
    }
}
