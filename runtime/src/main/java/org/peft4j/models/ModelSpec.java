package org.peft4j.models;

import org.peft4j.models.core.ClassifierHead;
import org.peft4j.models.core.ModelFamily;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Which pretrained model to start from and which task head to put on it.
 *
 * @param source an embedded model name ({@code "minilm"}, {@code "bge-small-en"}), or null when {@code path} is given
 * @param path   a Hugging Face model directory (config.json, model.safetensors, tokenizer.json), or null
 * @param task   the task
 * @param labels the class labels, in the order of the classifier's outputs
 * @param init   pretrained weights, or random ones in the config's shape (training from scratch)
 * @param head   a classifier's head; null for the model's convention (its checkpoint's head, else the
 *               pooling a sentence encoder was trained with, else the family's Transformers head)
 */
public record ModelSpec(String source, Path path, TaskType task, List<String> labels, ModelInit init,
                        ClassifierHead head) {

    public static final List<String> EMBEDDED = List.of("minilm", "bge-small-en");

    public ModelSpec {
        labels = labels == null ? List.of() : List.copyOf(labels);
        init = init == null ? ModelInit.PRETRAINED : init;
    }

    /** A model with its conventional head. */
    public ModelSpec(String source, Path path, TaskType task, List<String> labels, ModelInit init) {
        this(source, path, task, labels, init, null);
    }

    /** A model started from its pretrained weights. */
    public ModelSpec(String source, Path path, TaskType task, List<String> labels) {
        this(source, path, task, labels, ModelInit.PRETRAINED);
    }

    /**
     * The family of the model, read from its config.json's model_type without loading weights; empty
     * while that cannot be told (no model named, no readable config.json, a model_type no family
     * serves), which loading the model reports.
     */
    public Optional<ModelFamily<?>> family() {
        try {
            if (source != null) {
                return EMBEDDED.contains(source) ? Optional.of(Registry.family(EmbeddedModels.MODEL_TYPE)) : Optional.empty();
            }
            return path == null ? Optional.empty() : Optional.of(Registry.familyOf(path));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    public List<String> validate() {
        List<String> p = new ArrayList<>();
        if ((source == null) == (path == null)) {
            p.add("model: give exactly one of source '<name>' (embedded: " + EMBEDDED + ") or path '<HF model directory>'");
        }
        if (source != null && !EMBEDDED.contains(source)) {
            p.add("model.source = '" + source + "' is not an embedded model; valid: " + EMBEDDED
                    + ", or use path '<HF model directory>'");
        }
        if (task == null) {
            p.add("model.task is missing; e.g. task classification(labels: ['ham', 'spam'])");
        } else if (task == TaskType.CLASSIFICATION) {
            if (labels.size() < 2) {
                p.add("model.task classification needs at least 2 labels, got " + labels);
            } else if (labels.stream().distinct().count() != labels.size()) {
                p.add("model.task classification labels must be distinct, got " + labels);
            }
        }
        if (task == TaskType.CAUSAL_LM && source != null) {
            p.add("model.source '" + source + "' is an encoder; task causalLm(...) needs a decoder: path '<HF directory"
                    + " of a " + String.join(", ", Registry.modelTypes(org.peft4j.models.core.Task.Kind.CAUSAL_LM))
                    + " model>'");
        }
        if (head != null && task != TaskType.CLASSIFICATION) {
            p.add("model.task " + (task == null ? "(missing)" : task.name().toLowerCase()) + " has no classifier head;"
                    + " head: '" + head.label() + "' is for task classification(labels: [...], head: ...)");
        }
        if (init == ModelInit.RANDOM && task != TaskType.CAUSAL_LM) {
            p.add("model.init 'random' trains a decoder from scratch and needs task causalLm(...); a "
                    + task + " task starts from pretrained weights: remove init 'random'");
        }
        return p;
    }
}
