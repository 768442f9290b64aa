package org.peft4j.run;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.data.Batch;
import org.peft4j.data.Batches;
import org.peft4j.data.ClassificationDataset;
import org.peft4j.data.DataFileException;
import org.peft4j.data.LabeledText;
import org.peft4j.data.Shard;
import org.peft4j.data.Tokenizer;
import org.peft4j.dist.ProcessGroup;
import org.peft4j.models.Registry;
import org.peft4j.models.core.ModelConfig;
import org.peft4j.models.core.SequenceClassifier;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;
import org.peft4j.peft.AdapterModel;
import org.peft4j.peft.TrainedHead;
import org.peft4j.peft.files.PeftAdapters;
import org.peft4j.tensor.Backend;
import org.peft4j.tensor.StepScope;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Stream;

/**
 * Classifies the texts of a JSONL file with a model directory, plain (a merged export) or with a
 * PEFT adapter on top: {@code peft4j predict --model M [--adapter A] --input IN.jsonl --out OUT.jsonl}.
 * Each non-blank input line gives one output line {@code {"line": n, "logits": [...], "label": "..."}},
 * n being the 1-based line of the input; logits are written as the shortest decimal that reads
 * back as the same float, so no precision is lost.
 */
public final class Predictor implements AutoCloseable {

    /** Texts tokenized and batched together, so that memory stays bounded on inputs of any size. */
    private static final int CHUNK = 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SequenceClassifier model;
    private final Tokenizer tokenizer;
    private final List<String> labels;
    private final NDManager manager;

    private Predictor(SequenceClassifier model, Tokenizer tokenizer, List<String> labels, NDManager manager) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.labels = List.copyOf(labels);
        this.manager = manager;
    }

    /**
     * Loads a model for prediction, in eval mode with every parameter frozen, with the head the
     * adapter's run recorded, else the model directory's conventional head
     * ({@link TrainedHead#head}): a merged Transformers classifier, a mean-pooled one in
     * sentence-transformers' layout, or a base model with a PEFT adapter.
     *
     * @param modelDir   a Hugging Face model directory with {@code tokenizer.json}
     * @param adapterDir a PEFT adapter directory to apply, or null
     * @param labels     the class names in class-id order, or null to take them from the adapter's
     *                   {@link HeadLabels} (a run saves them), else from {@code config.json}'s {@code id2label}
     *                   (a merged export), else {@code LABEL_k}, as Hugging Face names them
     * @param maxLength  tokens per text, longer ones are cut (use the training's {@code data.maxLength});
     *                   0 for the model's limit, at most 512
     * @throws IllegalArgumentException when the number of classes cannot be found, or when neither
     *                                  the model nor the adapter holds a part of the head (which would
     *                                  then be random)
     */
    public static Predictor open(Path modelDir, Path adapterDir, List<String> labels, int maxLength) throws IOException {
        ModelConfig config = Registry.config(modelDir);
        OptionalInt rows = TrainedHead.rows(modelDir, adapterDir);
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("neither " + modelDir + (adapterDir == null ? "" : " nor " + adapterDir)
                    + " holds a classifier's output layer (classifier, classifier.out_proj or score), so predictions"
                    + " would come from an untrained head; give the adapter of a run trained with modulesToSave"
                    + " 'classifier' (or 'score' on a decoder), or its merged export");
        }
        List<String> saved = adapterDir == null ? null : HeadLabels.read(adapterDir);
        List<String> names = labelNames(labels, saved != null ? saved : configLabels(modelDir),
                saved != null ? adapterDir.resolve(HeadLabels.FILE) + "'s id2label " : "config.json's id2label ",
                rows.getAsInt());
        int length = maxLength > 0 ? maxLength : Math.min(512, config.maxPositions());

        NDManager manager = Backend.get().manager();
        Task<SequenceClassifier> task = Task.sequenceClassification(names.size(), 0,
                TrainedHead.head(modelDir, adapterDir));
        SequenceClassifier model = Registry.load(modelDir, task);
        try {
            AdapterModel adapter = adapterDir == null ? null : PeftAdapters.load(adapterDir, (Module) model);
            TrainedHead.requireComplete(modelDir, adapterDir, task, (Module) model, adapter);
            ((Module) model).setTrainable(false);
            ((Module) model).train(false);
            return new Predictor(model, Tokenizer.load(modelDir, length, ClassificationRun.padTokenOf(model)), names,
                    manager);
        } catch (IOException | RuntimeException e) {
            free(model);
            throw e;
        }
    }

    /** The class names, in class-id order. */
    public List<String> labels() {
        return labels;
    }

    /** The logits (one row of {@code labels().size()} per text), computed in batches without an autograd graph. */
    public float[][] logits(List<String> texts, int batchSize) {
        float[][] out = new float[texts.size()][];
        for (int from = 0; from < texts.size(); from += CHUNK) {
            List<LabeledText> chunk = new ArrayList<>();
            for (int i = from; i < Math.min(texts.size(), from + CHUNK); i++) {
                chunk.add(new LabeledText(texts.get(i), 0, i + 1));
            }
            float[][] rows = logitsOf(chunk, batchSize);
            System.arraycopy(rows, 0, out, from, rows.length);
        }
        return out;
    }

    /**
     * Classifies every non-blank line of {@code input} and writes {@code output} (atomically: a
     * reader never sees half a file).
     *
     * @param textField the JSON field that holds the text
     * @return the number of lines classified
     * @throws DataFileException for a line that is not a JSON object with a string {@code textField},
     *                           naming the file and line; the output is then not written
     */
    public long predict(Path input, Path output, String textField, int batchSize) throws IOException {
        return predict(input, output, textField, batchSize, ProcessGroup.single());
    }

    /**
     * As {@link #predict(Path, Path, String, int)}, by all the workers of {@code group} together:
     * each classifies its {@link Shard} of the non-blank lines and {@link PartFiles} joins the rows
     * into one {@code output}, in input order, as one process writes it. Every worker must call it.
     *
     * @return the number of lines classified by all the workers
     */
    public long predict(Path input, Path output, String textField, int batchSize, ProcessGroup group) throws IOException {
        if (!Files.isRegularFile(input)) {
            throw new DataFileException(input, 0, "no such file (expected a JSONL file with one JSON object per line)");
        }
        // this worker's texts are the non-blank lines first..end-1 (counted from 0); alone, all of them, read once
        Shard shard = new Shard(group.world().rank(), group.world().worldSize());
        int texts = group.world().distributed() ? Math.toIntExact(nonBlankLines(input)) : -1;
        long first = texts < 0 ? 0 : shard.from(texts);
        long end = texts < 0 ? Long.MAX_VALUE : shard.to(texts);
        long[] count = {0};
        PartFiles.write(group, output, out -> {
            try (BufferedReader in = Files.newBufferedReader(input, StandardCharsets.UTF_8)) {
                List<LabeledText> chunk = new ArrayList<>();
                long lineNo = 0;
                long text = 0;
                for (String line = in.readLine(); line != null && text < end; line = in.readLine()) {
                    lineNo++;
                    if (line.isBlank()) {
                        continue;
                    }
                    if (text++ < first) {
                        continue;
                    }
                    chunk.add(new LabeledText(text(input, lineNo, line, textField), 0, lineNo));
                    if (chunk.size() == CHUNK) {
                        count[0] += writeChunk(chunk, batchSize, out);
                        chunk.clear();
                    }
                }
                count[0] += writeChunk(chunk, batchSize, out);
            }
        });
        return group.world().distributed() ? (long) group.allReduceSum(count[0])[0] : count[0];
    }

    private static long nonBlankLines(Path input) throws IOException {
        try (Stream<String> lines = Files.lines(input, StandardCharsets.UTF_8)) {
            return lines.filter(line -> !line.isBlank()).count();
        }
    }

    /** The class of the largest logit (the first, on a tie). */
    public static int bestClass(float[] logits) {
        int best = 0;
        for (int k = 1; k < logits.length; k++) {
            if (logits[k] > logits[best]) {
                best = k;
            }
        }
        return best;
    }

    private long writeChunk(List<LabeledText> chunk, int batchSize, OutputStream out) throws IOException {
        if (chunk.isEmpty()) {
            return 0;
        }
        float[][] rows = logitsOf(chunk, batchSize);
        for (int i = 0; i < rows.length; i++) {
            ObjectNode n = JSON.createObjectNode();
            n.put("line", chunk.get(i).line());
            ArrayNode logits = n.putArray("logits");
            for (float z : rows[i]) {
                logits.add(z);
            }
            n.put("label", labels.get(bestClass(rows[i])));
            out.write(JSON.writeValueAsBytes(n));
            out.write('\n');
        }
        return rows.length;
    }

    /**
     * Tokenizes and batches through the training pipeline, so that prediction sees exactly the
     * inputs training saw; the examples' class id is a placeholder the model never reads.
     */
    private float[][] logitsOf(List<LabeledText> examples, int batchSize) {
        ClassificationDataset data = ClassificationDataset.of(examples, labels, tokenizer);
        Batches batches = Batches.inOrder(data, batchSize);
        float[][] out = new float[data.size()][];
        for (int b = 0; b < batches.size(); b++) {
            // the batch's arrays and activations are freed with the step; only the Java copy is kept
            try (StepScope scope = new StepScope()) {
                Batch batch = batches.get(b, manager);
                NDArray logits = model.forward(batch.inputIds(), batch.attentionMask(), batch.tokenTypeIds());
                float[] flat = logits.toFloatArray();
                int n = labels.size();
                int[] rows = batches.indices(b);
                for (int j = 0; j < rows.length; j++) {
                    out[rows[j]] = Arrays.copyOfRange(flat, j * n, (j + 1) * n);
                }
            }
        }
        return out;
    }

    private static String text(Path file, long lineNo, String line, String field) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new DataFileException(file, lineNo, "malformed JSON (" + e.getOriginalMessage()
                    + "); expected one JSON object per line");
        }
        JsonNode text = node == null || !node.isObject() ? null : node.get(field);
        if (text == null || !text.isTextual()) {
            throw new DataFileException(file, lineNo, "expected a JSON object with a string field '" + field
                    + "' (the text to classify), found " + line.strip());
        }
        return text.asText();
    }

    /** {@code id2label} of config.json in id order, or null when it has none. */
    private static List<String> configLabels(Path modelDir) throws IOException {
        JsonNode id2label = JSON.readTree(modelDir.resolve("config.json").toFile()).get("id2label");
        if (id2label == null || !id2label.isObject() || id2label.isEmpty()) {
            return null;
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < id2label.size(); i++) {
            JsonNode name = id2label.get(Integer.toString(i));
            if (name == null) {
                return null;
            }
            names.add(name.asText());
        }
        return names;
    }

    private static List<String> labelNames(List<String> given, List<String> fromConfig, String configName, long rows) {
        List<String> names = given != null ? given : fromConfig;
        if (names == null) {
            names = new ArrayList<>();
            for (int k = 0; k < rows; k++) {
                names.add("LABEL_" + k);
            }
        }
        if (names.size() != rows) {
            throw new IllegalArgumentException((given != null ? "labels " : configName) + names
                    + " name " + names.size() + " classes, but the classifier has " + rows + " outputs");
        }
        return names;
    }

    private static void free(SequenceClassifier model) {
        ((Module) model).namedParameters().values().forEach(p -> p.value().close());
    }

    /** Frees the model's parameters and the tokenizer. */
    @Override
    public void close() {
        tokenizer.close();
        free(model);
    }
}
