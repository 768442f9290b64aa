package org.peft4j.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.peft4j.models.bert.BertFamily;
import org.peft4j.models.core.CheckpointFiles;
import org.peft4j.models.core.ClassifierHead;
import org.peft4j.models.core.ModelConfig;
import org.peft4j.models.core.ModelFamily;
import org.peft4j.models.core.SentenceTransformersLayout;
import org.peft4j.models.core.Task;
import org.peft4j.models.core.WeightLoader;
import org.peft4j.models.deberta.DebertaV2Family;
import org.peft4j.models.gemma3.Gemma3Family;
import org.peft4j.models.gpt2.GPT2Family;
import org.peft4j.models.llama.LlamaFamily;
import org.peft4j.models.modernbert.ModernBertFamily;
import org.peft4j.models.qwen2.Qwen2Family;
import org.peft4j.models.qwen3.Qwen3Family;
import org.peft4j.models.roberta.RobertaFamily;
import org.peft4j.models.smollm3.SmolLm3Family;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The one place that names the model families: every command loads its model here, chosen by
 * {@code config.json}'s {@code model_type}, so a family added to {@link #FAMILIES} works everywhere.
 *
 * <pre>{@code
 * CausalLm lm = Registry.load(dir, Task.CAUSAL_LM);
 * SequenceClassifier c = Registry.load(dir, Task.sequenceClassification(2, seed));
 * TokenEncoder e = Registry.load(dir, Task.ENCODER);
 * }</pre>
 */
public final class Registry {

    private static final List<ModelFamily<?>> FAMILIES = List.of(BertFamily.INSTANCE, RobertaFamily.INSTANCE,
            ModernBertFamily.INSTANCE, DebertaV2Family.INSTANCE,
            LlamaFamily.INSTANCE, Qwen2Family.INSTANCE, GPT2Family.INSTANCE, Qwen3Family.INSTANCE,
            Gemma3Family.INSTANCE, SmolLm3Family.INSTANCE);

    private Registry() {
    }

    public static List<ModelFamily<?>> families() {
        return FAMILIES;
    }

    /** Every model_type some family serves, in the order of {@link #families()}. */
    public static List<String> modelTypes() {
        return FAMILIES.stream().flatMap(f -> f.modelTypes().stream()).toList();
    }

    /** The model_types of the families that build {@code kind}. */
    public static List<String> modelTypes(Task.Kind kind) {
        return FAMILIES.stream().filter(f -> f.tasks().contains(kind)).flatMap(f -> f.modelTypes().stream()).toList();
    }

    /**
     * The family serving {@code modelType}.
     *
     * @throws IllegalArgumentException naming the supported model types
     */
    public static ModelFamily<?> family(String modelType) {
        return FAMILIES.stream().filter(f -> f.modelTypes().contains(modelType)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("model_type = "
                        + (modelType == null ? "(missing)" : "'" + modelType + "'") + " is not supported; supported: "
                        + String.join(", ", modelTypes())));
    }

    /** The family of a model directory, by its config.json's model_type; the message names the file. */
    public static ModelFamily<?> familyOf(Path dir) throws IOException {
        Path config = WeightLoader.requireFile(dir, "config.json", "the model configuration");
        try {
            return family(modelType(dir));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(config + ": " + e.getMessage(), e);
        }
    }

    /** config.json's model_type, or null when it has none. */
    public static String modelType(Path dir) throws IOException {
        Path config = WeightLoader.requireFile(dir, "config.json", "the model configuration");
        JsonNode type;
        try {
            type = new ObjectMapper().readTree(Files.readString(config)).path("model_type");
        } catch (IOException e) {
            throw new IOException(config + ": not valid JSON: " + e.getMessage(), e);
        }
        return type.isTextual() ? type.textValue() : null;
    }

    /** The typed config of a model directory, read and validated by its family. */
    public static ModelConfig config(Path dir) throws IOException {
        return familyOf(dir).configOf(dir);
    }

    /** Whether the directory's family builds {@code kind} (false for an unsupported model_type too). */
    public static boolean builds(Path dir, Task.Kind kind) throws IOException {
        String type = modelType(dir);
        return FAMILIES.stream().anyMatch(f -> f.modelTypes().contains(type) && f.tasks().contains(kind));
    }

    /**
     * Loads a Hugging Face model directory (single-file or sharded safetensors) for {@code task}.
     *
     * @throws IllegalArgumentException when the model_type is not supported or its family does not
     *                                  build {@code task}, naming the model types that do
     */
    public static <M> M load(Path dir, Task<M> task) throws IOException {
        return familyFor(dir, task).load(dir, task);
    }

    /**
     * The parameters of {@code model} (loaded from {@code dir} for {@code task}) that the checkpoint
     * did not hold, so the family drew them: the parts of a classifier's head that are new.
     */
    public static List<String> newParameters(Path dir, Task<?> task, Module model) throws IOException {
        ModelFamily<?> family = familyFor(dir, task);
        var optional = family.optionalPaths(task, family.weights(dir, task));
        return model.namedParameters().keySet().stream().filter(optional).toList();
    }

    /**
     * A model for {@code task} in the shape of {@code dir}'s config.json with random weights drawn
     * after seeding the engine with {@code seed}, for training from scratch.
     */
    public static <M> M random(Path dir, Task<M> task, long seed) throws IOException {
        ModelFamily<?> family = familyFor(dir, task);
        if (!family.initializesRandomly()) {
            List<String> valid = FAMILIES.stream().filter(ModelFamily::initializesRandomly)
                    .flatMap(f -> f.modelTypes().stream()).toList();
            throw new IllegalArgumentException(dir.resolve("config.json") + ": model_type = '" + modelType(dir)
                    + "' cannot start from random weights here; init 'random' builds: " + String.join(", ", valid));
        }
        return family.random(dir, task, seed);
    }

    /**
     * The task {@code peft4j inspect} loads a directory for: its family's first. A classifier gets as
     * many outputs as config.json's id2label or num_labels declares, else the checkpoint's head, else 2,
     * and the directory's conventional head ({@link #conventionalHead}).
     */
    public static Task<?> inspectionTask(Path dir) throws IOException {
        return inspectionTask(dir, null);
    }

    /** {@link #inspectionTask(Path)} with a classifier's {@code head} as a recipe names it; null for the convention. */
    public static Task<?> inspectionTask(Path dir, ClassifierHead head) throws IOException {
        Task.Kind kind = familyOf(dir).tasks().get(0);
        return switch (kind) {
            case CAUSAL_LM -> Task.CAUSAL_LM;
            case ENCODER -> Task.ENCODER;
            case SEQUENCE_CLASSIFICATION -> Task.sequenceClassification(numLabels(dir), 0,
                    head != null ? head : conventionalHead(dir));
        };
    }

    /**
     * The classifier head a model directory is meant for when nobody names one: the Transformers head
     * when the checkpoint holds a trained head (a Transformers classifier is used as Transformers uses
     * it) or the directory says nothing; the mean head when it is a sentence-transformers model that
     * pools by the mean ({@code modules.json} and {@code 1_Pooling/config.json}, as all-MiniLM-L6-v2)
     * and its family builds that head.
     */
    public static ClassifierHead conventionalHead(Path dir) throws IOException {
        ModelFamily<?> family = familyOf(dir);
        boolean ownHead = CheckpointFiles.open(dir).entries().keySet().stream().anyMatch(n -> n.startsWith("classifier.")
                || n.startsWith("score."));
        if (!ownHead && family.heads().contains(ClassifierHead.MEAN)
                && "mean".equals(SentenceTransformersLayout.pooling(dir))) {
            return ClassifierHead.MEAN;
        }
        return ClassifierHead.TRANSFORMERS;
    }

    private static ModelFamily<?> familyFor(Path dir, Task<?> task) throws IOException {
        ModelFamily<?> family = familyOf(dir);
        if (!family.tasks().contains(task.kind())) {
            throw new IllegalArgumentException(dir.resolve("config.json") + ": model_type = '" + modelType(dir)
                    + "' is not a " + task.kind().label() + " peft4j loads; valid: "
                    + String.join(", ", modelTypes(task.kind())));
        }
        return family;
    }

    private static int numLabels(Path dir) throws IOException {
        JsonNode root = new ObjectMapper().readTree(Files.readString(dir.resolve("config.json")));
        if (root.path("id2label").isObject() && !root.path("id2label").isEmpty()) {
            return root.path("id2label").size();
        }
        if (root.path("num_labels").isIntegralNumber()) {
            return root.path("num_labels").asInt();
        }
        var entries = CheckpointFiles.open(dir).entries();
        for (String name : List.of("classifier.weight", "classifier.out_proj.weight", "score.weight")) {
            if (entries.containsKey(name)) {
                return Math.toIntExact(entries.get(name).shape()[0]);
            }
        }
        return 2;
    }
}
