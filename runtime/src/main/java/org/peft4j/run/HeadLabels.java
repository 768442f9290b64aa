package org.peft4j.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A classifier's class names, saved beside its adapter as {@code head_config.json} with the fields and
 * shapes of Transformers' {@code config.json}: {@code {"num_labels": 2, "id2label": {"0": "ham", "1":
 * "spam"}, "label2id": {"ham": 0, "spam": 1}}}.
 *
 * <p>PEFT saves no labels with an adapter (they live in the base model's config.json), and the file cannot be
 * a {@code config.json}: Transformers then takes the adapter directory for a complete model with an embedded
 * adapter and looks there for the base weights. Nor can the fields go into {@code adapter_config.json}, whose
 * unknown keys PEFT warns about. A Python user reads it as a Transformers config (which makes the ids integers)
 * and gives its labels to the base model:
 * <pre>
 * head = PretrainedConfig.from_json_file("adapter/head_config.json")
 * model = AutoModelForSequenceClassification.from_pretrained(base, id2label=head.id2label, label2id=head.label2id)
 * model = PeftModel.from_pretrained(model, "adapter")
 * </pre>
 * (Passing the file's JSON as keyword arguments keeps the ids as strings, and a pipeline then fails to look up
 * class 0.) {@code PeftModel}, {@code AutoPeftModelForSequenceClassification} and Transformers' own loading of
 * an adapter directory were checked with this file present (transformers 5.17, peft 0.21).
 */
public final class HeadLabels {

    public static final String FILE = "head_config.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HeadLabels() {
    }

    /** Writes {@code labels} (in class-id order) into {@code dir}. */
    public static void write(Path dir, List<String> labels) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("num_labels", labels.size());
        ObjectNode id2label = n.putObject("id2label");
        ObjectNode label2id = n.putObject("label2id");
        for (int i = 0; i < labels.size(); i++) {
            id2label.put(Integer.toString(i), labels.get(i));
            label2id.put(labels.get(i), i);
        }
        Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve(FILE), JSON.writeValueAsString(n) + "\n");
    }

    /**
     * The class names saved in {@code dir}, in class-id order; null when it holds no {@value #FILE}.
     *
     * @throws IOException when the file is not one {@link #write} could have written (ids not 0..n-1, a
     *                     label2id that does not invert id2label), naming the file and the fault
     */
    public static List<String> read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode n;
        try {
            n = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        JsonNode id2label = n.path("id2label");
        if (!id2label.isObject() || id2label.isEmpty()) {
            throw new IOException(file + ": no id2label object; expected {\"id2label\": {\"0\": \"name\", ...}}");
        }
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < id2label.size(); i++) {
            JsonNode name = id2label.get(Integer.toString(i));
            if (name == null || !name.isTextual()) {
                throw new IOException(file + ": id2label has no name for class " + i + "; its ids must be 0.."
                        + (id2label.size() - 1));
            }
            labels.add(name.textValue());
        }
        JsonNode label2id = n.path("label2id");
        for (int i = 0; i < labels.size(); i++) {
            if (label2id.isObject() && label2id.path(labels.get(i)).asInt(-1) != i) {
                throw new IOException(file + ": label2id does not map '" + labels.get(i) + "' to " + i
                        + " as id2label does");
            }
        }
        if (n.has("num_labels") && n.get("num_labels").asInt() != labels.size()) {
            throw new IOException(file + ": num_labels = " + n.get("num_labels").asInt() + " but id2label names "
                    + labels.size() + " classes");
        }
        return labels;
    }
}
