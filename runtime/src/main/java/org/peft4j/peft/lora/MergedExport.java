package org.peft4j.peft.lora;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.io.FileTrees;
import org.peft4j.io.SafeTensors;
import org.peft4j.models.core.WeightLoader;
import org.peft4j.models.Registry;
import org.peft4j.models.bert.BertForSequenceClassification;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a model with its LoRA adapter folded in as a plain Hugging Face directory
 * ({@code config.json}, {@code model.safetensors}, the tokenizer files), the offline merge of
 * torchtune and PEFT's {@code merge_and_unload().save_pretrained()}. The tensors carry the plain
 * parameter names (an adapted layer's {@code base_layer.weight} becomes its {@code weight}; no
 * {@code lora_*} tensor is written), so the directory loads back with
 * {@link BertForSequenceClassification#fromPretrained} as a model without adapters.
 *
 * <p>The directory appears whole or not at all: it is written into a hidden sibling and renamed.
 * Decoders (Llama family, GPT-2) are written by {@link MergedDecoder}, which keeps the base
 * checkpoint's own tensor names.
 */
public final class MergedExport {

    /** Tokenizer files copied along when the source directory has them; Python's loaders read the last three. */
    static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "vocab.txt");

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private MergedExport() {
    }

    /** {@link #write(LoraModel, Path, Path, List)} without label names. */
    public static void write(LoraModel lora, Path sourceModelDir, Path outDir) throws IOException {
        write(lora, sourceModelDir, outDir, null);
    }

    /**
     * Merges the active adapter and writes the merged model to {@code outDir}. The in-memory model
     * is left as it was: the layers this call merged are unmerged after the tensors are taken,
     * which restores their base weights up to float rounding (W + ΔW − ΔW); layers already merged
     * stay merged.
     *
     * @param sourceModelDir the directory the base model was loaded from: its {@code config.json}
     *                       and tokenizer files are copied
     * @param outDir         must not exist, or be an empty directory
     * @param labels         the class names, in class-id order, for a sequence classifier's
     *                       {@code id2label}/{@code label2id}; null when unknown
     */
    public static void write(LoraModel lora, Path sourceModelDir, Path outDir, List<String> labels) throws IOException {
        Path config = WeightLoader.requireFile(sourceModelDir, "config.json", "the model configuration");
        ObjectNode configJson = configFor(readObject(config), lora.root(), labels);
        checkTarget(outDir);
        Path tmp = Files.createDirectories(scratch(outDir));
        try {
            writeTensors(lora, tmp.resolve("model.safetensors"));
            Files.writeString(tmp.resolve("config.json"), JSON.writeValueAsString(configJson) + "\n");
            for (String name : TOKENIZER_FILES) {
                Path f = sourceModelDir.resolve(name);
                if (Files.isRegularFile(f)) {
                    Files.copy(f, tmp.resolve(name));
                }
            }
            publish(tmp, outDir);
        } finally {
            FileTrees.deleteRecursively(tmp);
        }
    }

    /**
     * The offline merge ({@code peft4j merge --model M --adapter A --out DIR}): loads the base
     * model and a PEFT adapter, and writes the merged directory. An adapter that does not fit the
     * model is refused, with every mismatch named, before anything is written.
     *
     * @param labels the class names in class-id order, written to {@code config.json}; null to take
     *               the number of classes from the trained classifier in the adapter (else the model)
     * @throws IllegalArgumentException when labels are null and neither file holds a classifier
     */
    public static void merge(Path modelDir, Path adapterDir, Path outDir, List<String> labels) throws IOException {
        int numLabels;
        if (labels != null) {
            numLabels = labels.size();
        } else {
            numLabels = TrainedHead.rows(modelDir, adapterDir).orElseThrow(() -> new IllegalArgumentException(
                    "neither " + adapterDir + " nor " + modelDir + " holds a classifier (classifier.weight), so the number"
                            + " of classes is unknown and the head would be untrained; give the labels or numLabels"));
        }
        merge(modelDir, adapterDir, outDir, numLabels, labels);
    }

    /**
     * The offline merge with a classifier of {@code numLabels} outputs; it must match the adapter's
     * saved classifier if it has one, and starts from seed 0's random weights if neither the
     * adapter nor the model holds one.
     */
    public static void merge(Path modelDir, Path adapterDir, Path outDir, int numLabels) throws IOException {
        merge(modelDir, adapterDir, outDir, numLabels, null);
    }

    private static void merge(Path modelDir, Path adapterDir, Path outDir, int numLabels, List<String> labels)
            throws IOException {
        checkTarget(outDir);
        Module model = (Module) Registry.load(modelDir, Task.sequenceClassification(numLabels, 0));
        try {
            LoraModel lora = AdapterFiles.load(adapterDir, model);
            write(lora, modelDir, outDir, labels);
        } finally {
            // the parameters live in the engine's long-lived manager; free them with the merge
            model.namedParameters().values().forEach(p -> p.value().close());
        }
    }

    /**
     * The model's tensors by plain name, with the active adapter merged. Taken under merge, written,
     * then unmerged, so that nothing but the file outlives the call.
     */
    private static void writeTensors(LoraModel lora, Path file) throws IOException {
        List<LoraLinear> mergedHere = new ArrayList<>();
        try {
            for (LoraLinear layer : lora.layers().values()) {
                if (!layer.isMerged()) {
                    layer.merge();
                    mergedHere.add(layer);
                }
            }
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            collect(lora.root(), "", tensors);
            SafeTensors.write(file, tensors, Map.of("format", "pt"));
        } finally {
            mergedHere.forEach(LoraLinear::unmerge);
        }
    }

    /**
     * Every parameter below {@code m} under its plain name: an adapted layer contributes its base
     * layer's parameters under its own path, and nothing of its adapters. Found by the module's
     * type, not by name patterns.
     */
    static void collect(Module m, String prefix, Map<String, NDArray> out) {
        if (m instanceof LoraLinear layer) {
            layer.baseLayer().namedParameters().forEach((n, p) -> out.put(Module.join(prefix, n), p.value()));
            return;
        }
        m.parameters().forEach((n, p) -> out.put(Module.join(prefix, n), p.value()));
        m.children().forEach((n, c) -> collect(c, Module.join(prefix, n), out));
    }

    /**
     * The source config with what a merged classifier needs: the architecture that loads a head in
     * Python, its size, and the label names when known. Stale label maps are removed, since the
     * source may be an earlier export with other labels.
     */
    static ObjectNode configFor(ObjectNode source, Module root, List<String> labels) {
        ObjectNode c = source.deepCopy();
        if (!(root instanceof BertForSequenceClassification classifier)) {
            if (labels != null) {
                throw new IllegalArgumentException("labels " + labels + " were given, but the model is a "
                        + root.getClass().getSimpleName() + ", not a sequence classifier");
            }
            return c;
        }
        int n = classifier.numLabels();
        if (labels != null && labels.size() != n) {
            throw new IllegalArgumentException(labels.size() + " labels " + labels + " were given for a classifier with "
                    + n + " outputs; give one name per class");
        }
        c.putArray("architectures").add("BertForSequenceClassification");
        c.put("num_labels", n);
        c.remove("id2label");
        c.remove("label2id");
        if (labels != null) {
            ObjectNode id2label = c.putObject("id2label");
            ObjectNode label2id = c.putObject("label2id");
            for (int i = 0; i < n; i++) {
                id2label.put(Integer.toString(i), labels.get(i));
                label2id.put(labels.get(i), i);
            }
        }
        return c;
    }

    private static ObjectNode readObject(Path file) throws IOException {
        JsonNode node;
        try {
            node = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!(node instanceof ObjectNode o)) {
            throw new IOException(file + ": expected a JSON object");
        }
        return o;
    }

    /** Refuses an output that would overwrite something, before any work is done. */
    static void checkTarget(Path outDir) throws IOException {
        if (Files.isDirectory(outDir)) {
            try (var entries = Files.list(outDir)) {
                if (entries.findAny().isPresent()) {
                    throw new IOException(outDir + " already exists and is not empty; choose another --out");
                }
            }
        } else if (Files.exists(outDir)) {
            throw new IOException(outDir + " exists and is not a directory; choose another --out");
        }
    }

    /** Renames the finished directory into place; an empty target directory is replaced. */
    static void publish(Path tmp, Path outDir) throws IOException {
        checkTarget(outDir);
        if (Files.isDirectory(outDir)) {
            try {
                Files.delete(outDir);
            } catch (DirectoryNotEmptyException e) {
                throw new IOException(outDir + " was filled while the merge was written; choose another --out", e);
            }
        }
        try {
            Files.move(tmp, outDir, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, outDir);
        }
    }

    /** A hidden sibling of {@code dir}, on the same file system so the final rename is atomic. */
    static Path scratch(Path dir) {
        Path abs = dir.toAbsolutePath();
        return abs.resolveSibling("." + abs.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-"
                + Long.toHexString(System.nanoTime()));
    }
}
