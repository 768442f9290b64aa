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
