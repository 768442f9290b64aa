package org.peft4j.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.SafeTensors;
import org.peft4j.models.Registry;
import org.peft4j.models.core.CheckpointFiles;
import org.peft4j.models.core.ClassifierHead;
import org.peft4j.models.core.SentenceTransformersLayout;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Finds a sequence classifier's trained head on disk, so that commands given only a model and an
 * adapter know how many classes there are and which head computes them: the adapter's saved head
 * (its modules to save) comes first, since it replaces the model's; else the model checkpoint's own
 * (a Transformers classifier, or a mean-pooled one in sentence-transformers' layout). Only the
 * safetensors headers are read.
 *
 * <p>A run records its head beside the adapter, as {@code "classifier_head"} in {@value #FILE}: PEFT's
 * own files have no place for it, and a head trained over a mean cannot be told from one trained
 * over BERT's pooler by its tensors.
 */
public final class TrainedHead {

    /** The file beside an adapter that describes its head. */
    public static final String FILE = "head_config.json";
    /** The field of {@value #FILE} naming the head ({@link ClassifierHead#label()}). */
    public static final String FIELD = "classifier_head";

    /** The output layer of each head Transformers or peft4j names: its rows are the classes. */
    private static final List<String> OUTPUTS = List.of("classifier.weight", "classifier.out_proj.weight",
            "score.weight");

    private TrainedHead() {
    }

    /**
     * The rows of the trained output layer ({@code classifier}, RoBERTa's {@code classifier.out_proj},
     * a decoder's {@code score}), or empty when neither directory holds one (a classifier built on
     * it would start from random weights).
     *
     * @param adapterDir a PEFT adapter directory, or null
     */
    public static OptionalInt rows(Path modelDir, Path adapterDir) throws IOException {
        if (adapterDir != null) {
            Path file = adapterDir.resolve(PeftFiles.WEIGHTS);
            if (!Files.isRegularFile(file)) {
                throw new IOException(file + " does not exist: an adapter directory holds " + PeftFiles.CONFIG
                        + " and " + PeftFiles.WEIGHTS);
            }
            OptionalInt saved = rows(SafeTensors.header(file), true);
            if (saved.isPresent()) {
                return saved;
            }
        }
        if (!Files.isRegularFile(modelDir.resolve(CheckpointFiles.SINGLE))
                && !Files.isRegularFile(modelDir.resolve(CheckpointFiles.INDEX))) {
            return OptionalInt.empty();
        }
        OptionalInt own = rows(CheckpointFiles.open(modelDir).entries(), false);
        if (own.isPresent()) {
            return own;
        }
        Path dense = SentenceTransformersLayout.classifierWeights(modelDir);
        if (dense != null) {
            SafeTensors.Entry w = SafeTensors.header(dense).get("linear.weight");
            return w == null ? OptionalInt.empty() : OptionalInt.of(Math.toIntExact(w.shape()[0]));
        }
        return OptionalInt.empty();
    }

    private static OptionalInt rows(Map<String, SafeTensors.Entry> header, boolean peftKeys) {
        for (SafeTensors.Entry e : header.values()) {
            String path = peftKeys ? PeftFiles.modelPath(e.name()) : e.name();
            if (OUTPUTS.contains(path) && e.shape().length == 2) {
                return OptionalInt.of(Math.toIntExact(e.shape()[0]));
            }
        }
        return OptionalInt.empty();
    }

    /**
     * The head a classifier over {@code modelDir} with the adapter of {@code adapterDir} computes: the
     * one recorded beside the adapter, else the model directory's convention
     * ({@link Registry#conventionalHead}).
     *
     * @param adapterDir an adapter directory, or null
     * @throws IOException when the record names no head peft4j knows
     */
    public static ClassifierHead head(Path modelDir, Path adapterDir) throws IOException {
        ClassifierHead recorded = adapterDir == null ? null : recorded(adapterDir);
        return recorded != null ? recorded : Registry.conventionalHead(modelDir);
    }

    /**
     * Refuses a classifier some part of whose head neither the checkpoint nor the adapter holds:
     * the family drew it from a seed, so its outputs would be random (BERT's pooler over MiniLM,
     * which ships none, when the adapter's run did not train it).
     *
     * @param model   the classifier loaded from {@code modelDir} for {@code task}
     * @param adapter the adapter loaded into it from {@code adapterDir}, or null
     * @throws IllegalArgumentException naming the parts and the directories
     */
    public static void requireComplete(Path modelDir, Path adapterDir, Task<?> task, Module model, AdapterModel adapter)
            throws IOException {
        List<String> drawn = new ArrayList<>(Registry.newParameters(modelDir, task, model));
        if (adapter != null) {
            drawn.removeIf(p -> adapter.modulesToSave().keySet().stream().anyMatch(m -> p.startsWith(m + ".")));
        }
        if (!drawn.isEmpty()) {
            throw new IllegalArgumentException("the " + task.head().label() + " head's " + drawn + " are in neither "
                    + modelDir + (adapterDir == null ? "" : " nor " + adapterDir) + ", so the outputs would come from"
                    + " random weights; give an adapter that saves them (its run's modulesToSave), or its merged export");
        }
    }

    /** The head recorded in {@code dir}'s {@value #FILE}, or null when it records none. */
    public static ClassifierHead recorded(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode n = read(file).path(FIELD);
        if (n.isMissingNode() || n.isNull()) {
            return null;
        }
        ClassifierHead head = ClassifierHead.named(n.asText());
        if (head == null) {
            throw new IOException(file + ": " + FIELD + " = " + n + " is not a head peft4j knows; valid: "
                    + ClassifierHead.labels());
        }
        return head;
    }

    /** Records {@code head} in {@code dir}'s {@value #FILE}, keeping what else the file says. */
    public static void record(Path dir, ClassifierHead head) throws IOException {
        Path file = dir.resolve(FILE);
        JsonNode existing = Files.isRegularFile(file) ? read(file) : null;
        ObjectNode n = existing instanceof ObjectNode o ? o : PeftFiles.JSON.createObjectNode();
        n.put(FIELD, head.label());
        Files.createDirectories(dir);
        AtomicFiles.writeString(file, PeftFiles.JSON.writeValueAsString(n) + "\n");
    }

    private static JsonNode read(Path file) throws IOException {
        try {
            return PeftFiles.JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
    }
}
