package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.peft4j.io.SafeTensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The safetensors weights of a Hugging Face model directory: either one {@code model.safetensors}
 * or shards listed by {@code model.safetensors.index.json} (its {@code weight_map} names, for each
 * tensor, the shard that holds it). Only headers are read here; {@link #read} then reads one tensor
 * at a time, so loading never holds two copies of the model.
 */
public final class CheckpointFiles {

    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final String description;
    private final Map<String, Path> fileOf;
    private final Map<String, SafeTensors.Entry> entries;
    /** The name a tensor has in its file, where it differs from the name given here. */
    private final Map<String, String> storedAs;

    private CheckpointFiles(String description, Map<String, Path> fileOf, Map<String, SafeTensors.Entry> entries) {
        this(description, fileOf, entries, Map.of());
    }

    private CheckpointFiles(String description, Map<String, Path> fileOf, Map<String, SafeTensors.Entry> entries,
                            Map<String, String> storedAs) {
        this.description = description;
        this.fileOf = fileOf;
        this.entries = Collections.unmodifiableMap(entries);
        this.storedAs = storedAs;
    }

    /**
     * These weights and the tensors of one more safetensors {@code file} under new names
     * ({@code names}: name in the file to name here), e.g. a sentence-transformers Dense layer's
     * {@code linear.weight} as {@code classifier.weight}. Tensors of the file not named are left out.
     *
     * @throws IOException when the file lacks a named tensor, or a new name is taken
     */
    public CheckpointFiles with(Path file, Map<String, String> names) throws IOException {
        Map<String, SafeTensors.Entry> header = SafeTensors.header(file);
        Map<String, Path> files = new LinkedHashMap<>(fileOf);
        Map<String, SafeTensors.Entry> all = new LinkedHashMap<>(entries);
        Map<String, String> stored = new LinkedHashMap<>(storedAs);
        for (Map.Entry<String, String> n : names.entrySet()) {
            SafeTensors.Entry e = header.get(n.getKey());
            if (e == null) {
                throw new IOException(file + " has no tensor '" + n.getKey() + "'; it holds " + header.keySet());
            }
            if (all.containsKey(n.getValue())) {
                throw new IOException(description + " already has a tensor '" + n.getValue() + "'; " + file
                        + "'s '" + n.getKey() + "' cannot take its name");
            }
            files.put(n.getValue(), file);
            all.put(n.getValue(), new SafeTensors.Entry(n.getValue(), e.dtype(), e.shape(), e.begin(), e.end()));
            stored.put(n.getValue(), n.getKey());
        }
        return new CheckpointFiles(description + " + " + file, files, all, stored);
    }

    /** One safetensors file. */
    public static CheckpointFiles single(Path file) throws IOException {
        Map<String, SafeTensors.Entry> header = SafeTensors.header(file);
        Map<String, Path> fileOf = new LinkedHashMap<>();
        header.keySet().forEach(n -> fileOf.put(n, file));
        return new CheckpointFiles(file.toString(), fileOf, new LinkedHashMap<>(header));
    }

    /**
     * The weights of a model directory: {@code model.safetensors} when present, else the shards
     * of {@code model.safetensors.index.json}. Every shard's header is checked against the index.
     */
    public static CheckpointFiles open(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve(SINGLE))) {
            return single(dir.resolve(SINGLE));
        }
        Path index = WeightLoader.requireFile(dir, INDEX, "the weights (" + SINGLE + ", or " + INDEX
                + " with its shards)");
        JsonNode weightMap;
        try {
            weightMap = new ObjectMapper().readTree(Files.readString(index)).path("weight_map");
        } catch (IOException e) {
            throw new IOException(index + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!weightMap.isObject() || weightMap.isEmpty()) {
            throw new IOException(index + ": no \"weight_map\" object mapping tensor names to shard files");
        }
        Map<String, Path> fileOf = new LinkedHashMap<>();
        Map<String, List<String>> byShard = new LinkedHashMap<>();
        var fields = weightMap.fields();
        while (fields.hasNext()) {
            var f = fields.next();
            fileOf.put(f.getKey(), dir.resolve(f.getValue().asText()));
            byShard.computeIfAbsent(f.getValue().asText(), k -> new ArrayList<>()).add(f.getKey());
        }
        Map<String, SafeTensors.Entry> entries = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, List<String>> shard : byShard.entrySet()) {
            Path file = dir.resolve(shard.getKey());
            if (!Files.isRegularFile(file)) {
                throw new NoSuchFileException(file.toString(), null, "shard named by " + index + " is missing");
            }
            Map<String, SafeTensors.Entry> header = SafeTensors.header(file);
            for (String name : shard.getValue()) {
                SafeTensors.Entry e = header.get(name);
                if (e == null) {
                    problems.add("'" + name + "' is mapped to " + shard.getKey() + " but that shard does not hold it");
                } else {
                    entries.put(name, e);
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new IOException(index + ": the index and its shards disagree:\n  - " + String.join("\n  - ", problems));
        }
        return new CheckpointFiles(index.toString(), fileOf, entries);
    }

    /** Every tensor's header entry (name, dtype, shape), in index order. */
    /**
     * The paths under those of {@code parts} ("pooler.", "classifier.") the checkpoint has no tensor
     * of: a task head that is new, to be drawn whole. A part the checkpoint has some tensors of is not
     * optional, so half a head is refused.
     */
    public Predicate<String> lacking(List<String> parts) {
        List<String> absent = parts.stream()
                .filter(part -> entries().keySet().stream().noneMatch(n -> n.startsWith(part))).toList();
        return path -> absent.stream().anyMatch(path::startsWith);
    }

    public Map<String, SafeTensors.Entry> entries() {
        return entries;
    }

    /** The distinct files, sorted. */
    public Set<Path> files() {
        return Collections.unmodifiableSet(new TreeSet<>(fileOf.values()));
    }

    /** Reads one tensor (floating types widened to f32) into {@code manager}. */
    public NDArray read(String name, NDManager manager) throws IOException {
        Path file = fileOf.get(name);
        if (file == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + description);
        }
        String inFile = storedAs.getOrDefault(name, name);
        return SafeTensors.read(file, manager, Set.of(inFile)).get(inFile);
    }

    /** The index file or the single file, for messages. */
    @Override
    public String toString() {
        return description;
    }
}
