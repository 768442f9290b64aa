package org.peft4j.models.core;

import ai.djl.ndarray.NDManager;
import org.peft4j.io.SafeTensors;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * Loads a safetensors checkpoint into a {@link Module}'s parameters by name, for any model family.
 *
 * <p>Everything is checked from the header before a byte of data is read: every parameter must
 * be found (unless declared optional) with the shape the model expects, and no two checkpoint
 * names may land on the same parameter. All problems are reported in one message. Tensors are then
 * read one at a time, so loading needs the model's memory plus one tensor, not twice the model.
 */
public final class WeightLoader {

    private static final System.Logger LOG = System.getLogger(WeightLoader.class.getName());

    private WeightLoader() {
    }

    /**
     * What a load did.
     *
     * @param loaded     parameter paths filled from the checkpoint
     * @param notLoaded  optional parameter paths the checkpoint did not have; they keep their values
     * @param ignored    checkpoint names the name map dropped on purpose
     * @param unexpected checkpoint names with no parameter of that path in the model
     */
    public record LoadReport(List<String> loaded, List<String> notLoaded, List<String> ignored, List<String> unexpected) {
    }

    /**
     * A file of a model directory, or a clear error saying which file is missing and what it is for.
     */
    public static Path requireFile(Path dir, String name, String what) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "not a directory; expected a Hugging Face model"
                    + " directory with config.json and model.safetensors");
        }
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "missing " + what + "; the directory holds "
                    + listing(dir));
        }
        return file;
    }

    private static String listing(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
            return names.isEmpty() ? "nothing" : names.toString();
        }
    }

    /**
     * Fills {@code model}'s parameters from a safetensors file.
     *
     * @param model    the module whose {@link Module#namedParameters()} are filled
     * @param file     the checkpoint
     * @param nameMap  checkpoint name to parameter path, or null to ignore that tensor on purpose
     * @param optional parameter paths that may be absent from the checkpoint (a fresh task head)
     * @param manager  where the loaded arrays live (the parameters' manager)
     * @throws IOException when the file cannot be read, or parameters are missing, mis-shaped or
     *                     mapped twice; the message lists every such problem
     */
    public static LoadReport load(Module model, Path file, UnaryOperator<String> nameMap, Predicate<String> optional,
                                  NDManager manager) throws IOException {
        return load(model, CheckpointFiles.single(file), nameMap, optional, manager);
    }

    /**
     * Fills {@code model}'s parameters from a single-file or sharded checkpoint, with the same
     * checks as {@link #load(Module, Path, UnaryOperator, Predicate, NDManager)}.
     */
    public static LoadReport load(Module model, CheckpointFiles file, UnaryOperator<String> nameMap,
                                  Predicate<String> optional, NDManager manager) throws IOException {
        Map<String, Parameter> params = model.namedParameters();
        Map<String, SafeTensors.Entry> header = file.entries();

        Map<String, String> sources = new LinkedHashMap<>(); // parameter path -> checkpoint name
        List<String> ignored = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (SafeTensors.Entry e : header.values()) {
            String path = nameMap.apply(e.name());
            if (path == null) {
                ignored.add(e.name());
                continue;
            }
            Parameter p = params.get(path);
            if (p == null) {
                unexpected.add(e.name());
                continue;
            }
            String earlier = sources.putIfAbsent(path, e.name());
            if (earlier != null) {
                problems.add("tensors '" + earlier + "' and '" + e.name() + "' both map to parameter '" + path + "'");
                continue;
            }
            long[] expected = p.value().getShape().getShape();
            if (!Arrays.equals(expected, e.shape())) {
                problems.add("tensor '" + e.name() + "' has shape " + Arrays.toString(e.shape()) + " in the file but "
                        + "parameter '" + path + "' expects " + Arrays.toString(expected));
            }
        }
        List<String> missing = new ArrayList<>();
        List<String> notLoaded = new ArrayList<>();
        for (String path : params.keySet()) {
            if (!sources.containsKey(path)) {
                (optional.test(path) ? notLoaded : missing).add(path);
            }
        }
        if (!missing.isEmpty()) {
            problems.add(0, missing.size() + " parameter(s) not found in the checkpoint: " + missing);
        }
        if (!problems.isEmpty()) {
            StringBuilder msg = new StringBuilder(file + ": cannot load into " + model.getClass().getSimpleName() + ":");
            problems.forEach(p -> msg.append("\n  - ").append(p));
            if (!unexpected.isEmpty()) {
                // most often the reason a whole block is missing: a prefix the name map did not expect
                msg.append("\n  checkpoint tensors the model has no place for: ").append(unexpected);
            }
            throw new IOException(msg.toString());
        }
        if (!unexpected.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "{0}: {1} tensor(s) not used by {2}: {3}", file, unexpected.size(),
                    model.getClass().getSimpleName(), unexpected);
        }

        for (Map.Entry<String, String> s : sources.entrySet()) {
            // set() adopts the array (after a dtype cast, closing the one it replaced)
            params.get(s.getKey()).set(file.read(s.getValue(), manager));
        }
        return new LoadReport(List.copyOf(sources.keySet()), notLoaded, ignored, unexpected);
    }
}
