package org.peft4j.export;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.io.SafeTensors;
import org.peft4j.models.core.CheckpointFiles;
import org.peft4j.models.core.MeanPooledClassifier;
import org.peft4j.models.core.SentenceTransformersLayout;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A merged classifier over the mean of the token states, which no Transformers class computes,
 * written in sentence-transformers' layout ({@link SentenceTransformersLayout}): the encoder under its
 * checkpoint's names (Transformers loads it with {@code AutoModel}), Pooling with the mean, and the
 * classifier as a Dense layer with the identity activation, so that
 * {@code SentenceTransformer(dir).encode(texts)} gives the classifier's logits. {@code config.json}
 * names the encoder's class and carries the labels; peft4j reads the directory back as the same
 * classifier.
 */
final class MeanClassifierLayout {

    /**
     * The directory's model card: Transformers' own classifier classes load the encoder too, but
     * report the classifier as missing and start it at random, since none of them pools by the mean.
     */
    static final String README = """
            ---
            library_name: sentence-transformers
            pipeline_tag: text-classification
            ---
            # A classifier over the mean of the token states

            Written by `peft4j merge`: the encoder with its adapter merged (`model.safetensors`), mean pooling
            (`1_Pooling`) and the classifier as a Dense layer with the identity activation (`2_Dense`).
            `SentenceTransformer(dir).encode(texts)` returns the classifier's logits, in the class order of
            `config.json`'s `id2label`:

            ```python
            from sentence_transformers import SentenceTransformer
            logits = SentenceTransformer("this-directory").encode(texts)
            ```

            No Transformers class computes this head: `AutoModelForSequenceClassification` and
            `pipeline("text-classification")` would put BERT's CLS pooler and a new, random classifier in its
            place (they report `classifier.weight` as missing). For a model those load, train with
            `task classification(..., head: 'transformers')`.
            """;

    private MeanClassifierLayout() {
    }

    /**
     * Writes {@code model} (loaded from {@code sourceDir}, its adapter merged) into {@code outDir}.
     *
     * @param config the classifier's config.json (labels set)
     */
    static void write(MeanPooledClassifier model, Path sourceDir, Path outDir, CheckpointFiles base, ObjectNode config,
                      NDManager copies) throws IOException {
        Module encoder = (Module) model.encoder();
        Map<String, NDArray> tensors = MergedDirectory.tensors(MergedDirectory.plainParameters(encoder),
                encoder.children().keySet(), base, copies, true);
        // a head the base carried would make Transformers and peft4j take the directory for a classifier
        tensors.keySet().removeIf(n -> n.startsWith("classifier.") || n.startsWith("score."));
        Map<String, NDArray> params = MergedDirectory.plainParameters(model);
        Map<String, NDArray> dense = new LinkedHashMap<>();
        dense.put("linear.weight", params.get("classifier.weight"));
        dense.put("linear.bias", params.get("classifier.bias"));
        int hidden = Math.toIntExact(dense.get("linear.weight").getShape().get(1));
        int maxLength = model.encoder().maxLength();
        MergedDirectory.write(sourceDir, outDir, tensors, MergedDirectory.text(config), false, dir -> {
            SentenceTransformersLayout.writeMeanClassifier(dir, hidden, model.numLabels(), maxLength);
            SafeTensors.write(dir.resolve(SentenceTransformersLayout.DENSE_DIR).resolve("model.safetensors"), dense,
                    Map.of("format", "pt"));
            Files.writeString(dir.resolve("README.md"), README);
        });
    }

    /** The Transformers class of the bare encoder, for {@code architectures}. */
    static String encoderArchitecture(ObjectNode config) {
        return switch (config.path("model_type").asText("")) {
            case "roberta" -> "RobertaModel";
            case "xlm-roberta" -> "XLMRobertaModel";
            default -> "BertModel";
        };
    }
}
