package org.peft4j.export;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.io.FileTrees;
import org.peft4j.io.SafeTensors;
import org.peft4j.models.core.CheckpointFiles;
import org.peft4j.nn.Module;
import org.peft4j.peft.AdapterLayer;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A merged model written as a complete Hugging Face directory, whole or not at all: the weights,
 * {@code config.json}, and what the base directory has beside them that a Hugging Face user loads
 * (the tokenizer files, {@code chat_template.jinja}, {@code generation_config.json}, a
 * sentence-transformers layout). Every weight of the base checkpoint is written: the merged ones
 * and, copied, the ones the loaded model does not hold (BERT's pooler, rotary buffers).
 */
final class MergedDirectory {

    /** Files copied along when the base has them. */
    static final List<String> SIDE_FILES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "added_tokens.json", "tokenizer.model", "vocab.json", "merges.txt", "vocab.txt", "spiece.model",
            "sentencepiece.bpe.model", "chat_template.jinja", "chat_template.json", "generation_config.json");
    /**
     * sentence-transformers' files, copied along for a merged encoder; a classifier's directory does
     * not carry its base's (they would describe the base's pooling, not the classifier).
     */
    static final List<String> SENTENCE_FILES = List.of("modules.json", "config_sentence_transformers.json",
            "sentence_bert_config.json", "1_Pooling/config.json");

    /** Files a merge adds beside the weights and config.json, written into the directory being assembled. */
    interface Extra {
        void write(Path dir) throws IOException;
    }

    private static final String TIED_HEAD = "lm_head.weight";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private MergedDirectory() {
    }

    /**
     * Writes {@code tensors} and {@code config} (the text of {@code config.json}) with the base's
     * side files into {@code outDir} through a hidden sibling that is renamed into place.
     */
    static void write(Path sourceDir, Path outDir, Map<String, NDArray> tensors, String config) throws IOException {
        write(sourceDir, outDir, tensors, config, true, dir -> { });
    }

    /**
     * As {@link #write(Path, Path, Map, String)}; the base's sentence-transformers files are copied
     * only with {@code sentenceFiles}, and {@code extra} adds files of the merge's own.
     */
    static void write(Path sourceDir, Path outDir, Map<String, NDArray> tensors, String config, boolean sentenceFiles,
                      Extra extra) throws IOException {
        checkTarget(outDir);
        Path tmp = Files.createDirectories(scratch(outDir));
        try {
            SafeTensors.write(tmp.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
            Files.writeString(tmp.resolve("config.json"), config);
            List<String> copied = new java.util.ArrayList<>(SIDE_FILES);
            if (sentenceFiles) {
                copied.addAll(SENTENCE_FILES);
            }
            for (String name : copied) {
                Path f = sourceDir.resolve(name);
                if (Files.isRegularFile(f)) {
                    Files.createDirectories(tmp.resolve(name).getParent());
                    Files.copy(f, tmp.resolve(name));
                }
            }
            Path tokenizerConfig = tmp.resolve("tokenizer_config.json");
            if (Files.isRegularFile(tmp.resolve("tokenizer.json"))) {
                ObjectNode given = Files.isRegularFile(tokenizerConfig) ? readObject(tokenizerConfig) : null;
                ObjectNode complete = TokenizerConfig.of(given, tmp.resolve("tokenizer.json"),
                        readObject(tmp.resolve("config.json")), JSON);
                if (!complete.equals(given)) {
                    Files.writeString(tokenizerConfig, JSON.writeValueAsString(complete) + "\n");
                }
            }
            extra.write(tmp);
            publish(tmp, outDir);
        } finally {
            FileTrees.deleteRecursively(tmp);
        }
    }

    /**
     * Every parameter of {@code model} under its plain path: an adapter layer contributes its base
     * layer's parameters under its own path and nothing of its adapter. Found by the module's type,
     * not by name patterns.
     */
    static Map<String, NDArray> plainParameters(Module model) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        collect(model, "", out);
        return out;
    }

    private static void collect(Module m, String prefix, Map<String, NDArray> out) {
        if (m instanceof AdapterLayer layer) {
            layer.baseLayer().namedParameters().forEach((n, p) -> out.put(Module.join(prefix, n), p.value()));
            return;
        }
        m.parameters().forEach((n, p) -> out.put(Module.join(prefix, n), p.value()));
        m.children().forEach((n, c) -> collect(c, Module.join(prefix, n), out));
    }

    /**
     * The tensors to write for a model loaded from {@code base}: each parameter, and every base
     * tensor the model does not hold, read into {@code copies}. With {@code checkpointNames} a
     * tensor keeps the base checkpoint's name (the merged directory loads with the base's class);
     * without, the model's paths are used and the copied tensors follow the model's naming (a
     * classifier over an encoder checkpoint: {@code pooler.dense.weight} becomes
     * {@code bert.pooler.dense.weight}). A tied head stored in the base is left out, since the
     * embedding is the head.
     *
     * @throws IllegalArgumentException when the model holds a parameter the base does not name and
     *                                  {@code checkpointNames} is set
     */
    static Map<String, NDArray> tensors(Map<String, NDArray> params, Set<String> topLevel, CheckpointFiles base,
                                        NDManager copies, boolean checkpointNames) throws IOException {
        Set<String> unwritten = new LinkedHashSet<>(params.keySet());
        Map<String, NDArray> out = new LinkedHashMap<>();
        String prefix = checkpointNames ? "" : addedPrefix(params, topLevel, base);
        if (!checkpointNames) {
            out.putAll(params);
            unwritten.clear();
        }
        for (String name : base.entries().keySet()) {
            String path = resolve(name, params, topLevel);
            if (path != null) {
                if (checkpointNames) {
                    out.put(name, params.get(path));
                    unwritten.remove(path);
                }
            } else if (!name.equals(TIED_HEAD)) {
                out.putIfAbsent(prefix + name, base.read(name, copies));
            }
        }
        if (!unwritten.isEmpty()) {
            throw new IllegalArgumentException("parameters " + unwritten + " have no tensor in " + base
                    + "; the merged model must come from that checkpoint");
        }
        return out;
    }

    /** The model path a checkpoint name loads into: the same name, under a top-level prefix, or without one. */
    private static String resolve(String name, Map<String, NDArray> params, Set<String> topLevel) {
        if (params.containsKey(name)) {
            return name;
        }
        for (String c : topLevel) {
            if (params.containsKey(c + "." + name)) {
                return c + "." + name;
            }
        }
        int dot = name.indexOf('.');
        return dot > 0 && params.containsKey(name.substring(dot + 1)) ? name.substring(dot + 1) : null;
    }

    /** The prefix the model puts before the base's names ("bert." for a classifier over a bare encoder), or "". */
    private static String addedPrefix(Map<String, NDArray> params, Set<String> topLevel, CheckpointFiles base) {
        for (String name : base.entries().keySet()) {
            String path = resolve(name, params, topLevel);
            if (path != null && !path.equals(name) && path.endsWith("." + name)) {
                return path.substring(0, path.length() - name.length());
            }
            if (path != null) {
                return "";
            }
        }
        return "";
    }

    /** The JSON text of a config, as written. */
    static String text(ObjectNode config) throws IOException {
        return JSON.writeValueAsString(config) + "\n";
    }

    static ObjectNode readObject(Path file) throws IOException {
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
