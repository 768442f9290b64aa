package org.peft4j.io.onnx;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.io.FileTrees;
import org.peft4j.io.SafeTensors;
import org.peft4j.tensor.Backend;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Turns an ONNX export of a BERT encoder into a Hugging Face model directory: {@code config.json},
 * {@code model.safetensors} (F32, Hugging Face names, Linear weights [out, in]), the
 * {@code tokenizer.json}, and {@value #MARKER} recording where the weights came from.
 *
 * <p>The directory is assembled in a hidden sibling and renamed into place, so a reader sees
 * either no directory or a complete one, whatever happens to the importing process.
 */
public final class OnnxImporter {

    /** Written last; its presence is what makes a directory complete. */
    public static final String MARKER = "peft4j-import.json";

    /** The files of a complete import. */
    public static final List<String> FILES = List.of("config.json", "model.safetensors", "tokenizer.json", MARKER);

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private OnnxImporter() {
    }

    /**
     * Imports {@code onnxFile} into {@code outDir}, which must not exist yet (an empty directory is
     * replaced). When another process completes the same directory first, its result is kept.
     *
     * @param source what the ONNX file is, for the record (an artifact coordinate or a path)
     * @return {@code outDir}
     */
    public static Path importBert(Path onnxFile, Path tokenizerJson, Path outDir, String source) throws IOException {
        return importBert(onnxFile, tokenizerJson, outDir, source, null);
    }

    /**
     * As {@link #importBert(Path, Path, Path, String)}, recording how the model pools its token states
     * ({@code "mean"} or {@code "cls"}) as sentence-transformers does: {@code modules.json} and
     * {@code 1_Pooling/config.json}, so that {@code SentenceTransformer(dir)} embeds as the model was
     * trained. With {@code pooling} null nothing is recorded.
     */
    public static Path importBert(Path onnxFile, Path tokenizerJson, Path outDir, String source, String pooling)
            throws IOException {
        Path target = outDir.toAbsolutePath().normalize();
        if (Files.exists(target) && !isEmptyDirectory(target)) {
            throw new IOException(target + " already exists; remove it or import into another directory");
        }
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new IOException("tokenizer file " + tokenizerJson + " does not exist");
        }
        OnnxGraph graph = OnnxGraph.read(onnxFile);
        Map<String, HfWeightNames.Weight> weights;
        BertOnnxConfig config;
        try {
            weights = HfWeightNames.of(graph);
            config = BertOnnxConfig.of(graph, weights);
        } catch (IllegalArgumentException e) {
            throw new IOException(onnxFile + ": " + e.getMessage(), e);
        }

        Files.createDirectories(target.getParent());
        // not createTempDirectory: its 0700 mode would stay on the renamed model directory
        Path staging = Files.createDirectory(target.getParent().resolve("." + target.getFileName() + ".importing-"
                + ProcessHandle.current().pid() + "-" + Long.toHexString(System.nanoTime())));
        try {
            Files.writeString(staging.resolve("config.json"), JSON.writeValueAsString(config.toJson(JSON)));
            writeWeights(weights, staging.resolve("model.safetensors"));
            Files.copy(tokenizerJson, staging.resolve("tokenizer.json"));
            if (pooling != null) {
                SentencePooling.write(staging, pooling, config.hiddenSize(), JSON);
            }
            ObjectNode record = JSON.createObjectNode();
            record.put("source", source);
            record.put("onnx_bytes", Files.size(onnxFile));
            record.put("onnx_sha256", FileTrees.sha256(onnxFile));
            record.put("tensors", weights.size());
            record.put("importer", OnnxImporter.class.getName());
            Files.writeString(staging.resolve(MARKER), JSON.writeValueAsString(record));
            for (String f : FILES) {
                force(staging.resolve(f));
            }
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                if (isComplete(target)) {
                    return target;
                }
                throw new IOException("could not move the imported model from " + staging + " to " + target
                        + ": " + e.getMessage(), e);
            }
            return target;
        } finally {
            FileTrees.deleteRecursively(staging);
        }
    }

    /** True when {@code dir} holds every file of an import; cheap, so it can guard every use. */
    public static boolean isComplete(Path dir) {
        for (String f : FILES) {
            Path p = dir.resolve(f);
            try {
                if (!Files.isRegularFile(p) || Files.size(p) == 0) {
                    return false;
                }
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    private static void writeWeights(Map<String, HfWeightNames.Weight> weights, Path file) throws IOException {
        try (NDManager manager = Backend.get().manager().newSubManager()) {
            Map<String, NDArray> arrays = new LinkedHashMap<>();
            for (HfWeightNames.Weight w : weights.values()) {
                ByteBuffer data = w.transpose() ? transposed(w.source()) : w.source().rawData();
                arrays.put(w.name(), manager.create(data, new Shape(w.shape()), DataType.FLOAT32));
            }
            SafeTensors.write(file, arrays, Map.of("format", "pt"));
        }
    }

    /** [in, out] to [out, in]: the exporter stores Linear weights ready for x @ W, PyTorch keeps W as [out, in]. */
    static ByteBuffer transposed(OnnxTensor t) {
        long[] d = t.dims();
        int rows = (int) d[0];
        int cols = (int) d[1];
        FloatBuffer src = t.floats();
        ByteBuffer out = ByteBuffer.allocateDirect(rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer dst = out.asFloatBuffer();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                dst.put(c * rows + r, src.get(r * cols + c));
            }
        }
        return out;
    }

    private static void force(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static boolean isEmptyDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }
}
