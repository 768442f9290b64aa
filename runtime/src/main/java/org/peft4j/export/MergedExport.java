package org.peft4j.export;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.models.core.CheckpointFiles;
import org.peft4j.models.core.MeanPooledClassifier;
import org.peft4j.models.core.SequenceClassifier;
import org.peft4j.models.core.Task;
import org.peft4j.models.core.WeightLoader;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.peft.AdapterLayer;
import org.peft4j.peft.AdapterModel;
import org.peft4j.peft.PeftFiles;
import org.peft4j.peft.TrainedHead;
import org.peft4j.peft.files.PeftAdapters;
import org.peft4j.tensor.Backend;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The offline merge, torchtune's and PEFT's {@code merge_and_unload().save_pretrained()}: a base
 * model with its adapter (LoRA or AdaLoRA, seen only through {@link AdapterModel}) folded in,
 * written as a complete Hugging Face directory that needs no adapter code. No {@code lora_*}
 * tensor is written; an adapted layer's {@code base_layer.weight} becomes its {@code weight}.
 *
 * <p>Which model the directory holds follows what was trained. A sequence classifier (the adapter's
 * task is SEQ_CLS, it saved a head, or labels are given) with a Transformers head is written as the
 * family's Transformers class ({@code BertForSequenceClassification}, {@code RobertaForSequenceClassification},
 * {@code LlamaForSequenceClassification}, ...) with its labels, its weights exactly the class's, so
 * {@code AutoModelForSequenceClassification} computes the same logits. A classifier over the mean of
 * the token states, which no Transformers class computes, is written in sentence-transformers'
 * layout (the encoder, Pooling with the mean, a Dense layer with the identity activation holding the
 * classifier), whose {@code SentenceTransformer(dir).encode(texts)} are its logits. A decoder's
 * causal LM ({@link MergedDecoder}) and an encoder with any other adapter (an embedding adapter) keep
 * their checkpoint's names, and every weight of the base checkpoint is in the result.
 */
public final class MergedExport {

    private MergedExport() {
    }

    /** {@link #write(AdapterModel, Path, Path, List)} without label names. */
    public static void write(AdapterModel adapter, Path sourceModelDir, Path outDir) throws IOException {
        write(adapter, sourceModelDir, outDir, null);
    }

    /**
     * Merges the active adapter and writes the merged model to {@code outDir}. The in-memory model
     * is left as it was: the layers this call merged are unmerged after the tensors are taken,
     * which restores their base weights up to float rounding (W + ΔW − ΔW); layers already merged
     * stay merged.
     *
     * @param sourceModelDir the directory the base model was loaded from: its config.json and side
     *                       files are carried over, and, for an encoder or a decoder, its weights
     *                       the model does not hold
     * @param outDir         must not exist, or be an empty directory
     * @param labels         the class names, in class-id order, for a sequence classifier's
     *                       {@code id2label}/{@code label2id}; null to keep the base's when they fit
     */
    public static void write(AdapterModel adapter, Path sourceModelDir, Path outDir, List<String> labels)
            throws IOException {
        Module root = adapter.root();
        Path config = WeightLoader.requireFile(sourceModelDir, "config.json", "the model configuration");
        ObjectNode configJson = configFor(MergedDirectory.readObject(config), root, labels);
        MergedDirectory.checkTarget(outDir);
        CheckpointFiles base = CheckpointFiles.open(sourceModelDir);
        List<AdapterLayer> mergedHere = new ArrayList<>();
        NDManager copies = Backend.get().manager().newSubManager();
        try {
            for (AdapterLayer layer : adapter.layers().values()) {
                if (!layer.isMerged()) {
                    layer.merge();
                    mergedHere.add(layer);
                }
            }
            if (root instanceof MeanPooledClassifier mean) {
                MeanClassifierLayout.write(mean, sourceModelDir, outDir, base, configJson, copies);
            } else if (root instanceof SequenceClassifier) {
                // exactly the Transformers class's weights: what the base holds beside them (a pooler
                // RoBERTa's classifier does not build, a causal LM's lm_head) it would not use
                MergedDirectory.write(sourceModelDir, outDir, MergedDirectory.plainParameters(root),
                        MergedDirectory.text(configJson), false, dir -> { });
            } else {
                MergedDirectory.write(sourceModelDir, outDir, MergedDirectory.tensors(
                        MergedDirectory.plainParameters(root), root.children().keySet(), base, copies, true),
                        java.nio.file.Files.readString(config));
            }
        } finally {
            mergedHere.forEach(AdapterLayer::unmerge);
            copies.close();
        }
    }

    /**
     * The offline merge ({@code peft4j merge --model M --adapter A --out DIR}): loads the base
     * model and a PEFT adapter (LoRA or AdaLoRA), and writes the merged directory. An adapter that
     * does not fit the model is refused, with every mismatch named, before anything is written.
     *
     * @param labels the class names in class-id order, written to {@code config.json}; null to take
     *               the number of classes from the trained head in the adapter (else the model)
     * @throws IllegalArgumentException when a SEQ_CLS adapter's number of classes is unknown (neither
     *                                  file holds a head), or a part of the head would be random
     */
    public static void merge(Path modelDir, Path adapterDir, Path outDir, List<String> labels) throws IOException {
        MergedDirectory.checkTarget(outDir);
        String task = PeftFiles.readConfig(adapterDir).path("task_type").asText("");
        OptionalInt head = TrainedHead.rows(modelDir, adapterDir);
        if (labels != null) {
            merge(modelDir, adapterDir, outDir, labels.size(), labels);
        } else if (head.isPresent()) {
            merge(modelDir, adapterDir, outDir, head.getAsInt(), null);
        } else if (task.equals("SEQ_CLS")) {
            throw new IllegalArgumentException("neither " + adapterDir + " nor " + modelDir + " holds a classifier's"
                    + " output layer (classifier, classifier.out_proj or score), so the number of classes is unknown"
                    + " and the head would be untrained; give the labels or numLabels");
        } else if (BaseModels.isDecoder(modelDir)) {
            MergedDecoder.merge(modelDir, adapterDir, outDir);
        } else {
            mergeEncoder(modelDir, adapterDir, outDir);
        }
    }

    /** Whether {@code modelDir} holds a decoder (Llama family or GPT-2). */
    public static boolean isDecoder(Path modelDir) throws IOException {
        return BaseModels.isDecoder(modelDir);
    }

    /**
     * The offline merge with a classifier of {@code numLabels} outputs and the head the adapter's run
     * recorded (else the model's conventional head); it must match the adapter's saved head if it
     * has one, and every part of the head must come from the model or the adapter.
     */
    public static void merge(Path modelDir, Path adapterDir, Path outDir, int numLabels) throws IOException {
        merge(modelDir, adapterDir, outDir, numLabels, null);
    }

    private static void merge(Path modelDir, Path adapterDir, Path outDir, int numLabels, List<String> labels)
            throws IOException {
        MergedDirectory.checkTarget(outDir);
        Task<SequenceClassifier> task = Task.sequenceClassification(numLabels, 0, TrainedHead.head(modelDir, adapterDir));
        Module model = BaseModels.classifier(modelDir, task);
        try {
            AdapterModel adapter = PeftAdapters.load(adapterDir, model);
            TrainedHead.requireComplete(modelDir, adapterDir, task, model, adapter);
            write(adapter, modelDir, outDir, labels);
        } finally {
            free(model);
        }
    }

    /** An embedding adapter folded into its bare encoder, written under the checkpoint's names. */
    private static void mergeEncoder(Path modelDir, Path adapterDir, Path outDir) throws IOException {
        Module encoder = BaseModels.encoder(modelDir);
        try {
            write(PeftAdapters.load(adapterDir, encoder), modelDir, outDir, null);
        } finally {
            free(encoder);
        }
    }

    /**
     * The source config with what a merged classifier needs: the architecture that loads a head in
     * Python, its size, and the label names: the given ones, else the source's when there is one
     * per class. Other label maps are removed, since the source may be an earlier export with
     * other labels.
     */
    static ObjectNode configFor(ObjectNode source, Module root, List<String> labels) {
        ObjectNode c = source.deepCopy();
        if (!(root instanceof SequenceClassifier classifier)) {
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
        // the Transformers class that computes the head; a mean-pooled one is a plain encoder to Transformers
        String architecture = classifier.architecture() != null ? classifier.architecture()
                : MeanClassifierLayout.encoderArchitecture(c);
        c.putArray("architectures").add(architecture);
        c.put("num_labels", n);
        boolean sourceFits = labels == null && c.path("id2label").size() == n && c.path("label2id").size() == n;
        if (!sourceFits) {
            c.remove("id2label");
            c.remove("label2id");
        }
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

    /**
     * Loads the adapter of {@code adapterDir} into {@code root}, merges it and puts the base layers
     * back. The adapter's own tensors are freed afterwards; modules to save and trained biases
     * stay, as they are the model's parameters now.
     */
    static void foldIn(Module root, Path adapterDir) throws IOException {
        AdapterModel adapter = PeftAdapters.load(adapterDir, root);
        Map<String, Parameter> adapterParams = adapter.adapterParameters();
        adapter.mergeAndUnload();
        Map<Parameter, Boolean> kept = new IdentityHashMap<>();
        root.namedParameters().values().forEach(p -> kept.put(p, true));
        adapterParams.values().stream().filter(p -> !kept.containsKey(p)).forEach(p -> p.value().close());
    }

    /** The parameters live in the engine's long-lived manager; a merge frees them when done. */
    static void free(Module root) {
        root.namedParameters().values().forEach(p -> p.value().close());
    }
}
