package org.peft4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.FileTrees;
import org.peft4j.io.SafeTensors;
import org.peft4j.nn.Parameter;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The checkpoints of a run: {@code <run>/checkpoints/step-000120/} holding the trainable weights,
 * the optimizer state, the step hook's state when it keeps one ({@code hook.safetensors}; its
 * counters go into {@code state.json}), and {@code state.json} (position, RNG, metrics, and a
 * SHA-256 of each file).
 *
 * <p>A checkpoint is written into a hidden temporary directory, every file synced, {@code state.json}
 * last, then the directory is renamed into place: a reader sees a whole checkpoint or none. One
 * whose {@code state.json} is missing or whose hashes do not match is reported and skipped.
 */
public final class Checkpoints {

    public static final String TRAINABLE = "trainable.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String STATE = "state.json";
    public static final String HOOK = "hook.safetensors";
    private static final int FORMAT = 1;
    private static final String PREFIX = "step-";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Writes a tensor file; a test puts a failing one in to check what a full disk does. */
    @FunctionalInterface
    public interface TensorWriter {
        void write(Path file, Map<String, NDArray> tensors) throws IOException;
    }

    /** A checkpoint that passed its hash check. */
    public record Loaded(Path dir, TrainState state, int optimizerSteps, JsonNode json) {

        /** The number of workers that wrote it (1 for checkpoints without the entry). */
        public int worldSize() {
            return json.path("world_size").asInt(1);
        }
    }

    private final Path dir;
    private final int keep;
    private final Map<String, Parameter> trainable;
    private final Optimizer optimizer;
    private final Map<String, Object> identity;
    private final TensorWriter writer;
    /**
     * The data-parallel workers that write these checkpoints: recorded, not part of the identity, since a run
     * of another size may resume them (every worker holds the same weights and moments, and the data order
     * and the global batch do not depend on how many workers share it).
     */
    private int worldSize = 1;

    /**
     * @param dir       the {@code checkpoints} folder of a run
     * @param keep      how many of the newest to keep; the best one is kept besides
     * @param trainable the parameters that train, by path (adapter or full weights)
     * @param identity  settings a resumed run must share with the saved one (seed, batch size, ...),
     *                  checked on load so that a changed recipe is not silently resumed
     */
    public Checkpoints(Path dir, int keep, Map<String, Parameter> trainable, Optimizer optimizer,
                       Map<String, Object> identity) {
        this(dir, keep, trainable, optimizer, identity, (f, t) -> SafeTensors.write(f, t, Map.of("format", "pt")));
    }

    public Checkpoints(Path dir, int keep, Map<String, Parameter> trainable, Optimizer optimizer,
                       Map<String, Object> identity, TensorWriter writer) {
        this.dir = dir;
        this.keep = keep;
        this.trainable = trainable;
        this.optimizer = optimizer;
        this.identity = new LinkedHashMap<>(identity);
        this.writer = writer;
    }

    /** Records that {@code worldSize} data-parallel workers write these checkpoints; returns this. */
    public Checkpoints writtenBy(int worldSize) {
        this.worldSize = worldSize;
        return this;
    }

    public Path dir() {
        return dir;
    }

    public static String name(int step) {
        return String.format("%s%06d", PREFIX, step);
    }

    /** Checkpoint folders, oldest first (by step, not by time). */
    public List<Path> list() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches(PREFIX + "\\d+") && Files.isDirectory(p))
                    .sorted(Comparator.comparingInt(Checkpoints::stepOf))
                    .toList();
        } catch (IOException e) {
            throw new CheckpointException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static int stepOf(Path p) {
        return Integer.parseInt(p.getFileName().toString().substring(PREFIX.length()));
    }

    /** Writes a checkpoint of the current weights, optimizer state and {@code state}; prunes old ones. */
    public Path save(TrainState state) {
        return save(state, HookState.NONE);
    }

    /** As {@link #save(TrainState)}, with the step hook's state besides. */
    public Path save(TrainState state, HookState hook) {
        Path target = dir.resolve(name(state.step()));
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempDirectory(dir, "." + target.getFileName() + ".");
            Map<String, NDArray> weights = new LinkedHashMap<>();
            trainable.forEach((k, p) -> weights.put(k, p.value()));
            writer.write(tmp.resolve(TRAINABLE), weights);
            writer.write(tmp.resolve(OPTIMIZER), optimizer.state());
            List<String> written = new ArrayList<>(List.of(TRAINABLE, OPTIMIZER));
            ObjectNode json = stateJson(state);
            if (!hook.isEmpty()) {
                writer.write(tmp.resolve(HOOK), hook.arrays());
                written.add(HOOK);
                json.putObject("hook").set("counters", JSON.valueToTree(new TreeMap<>(hook.counters())));
            }
            ObjectNode files = json.putObject("files");
            for (String f : written) {
                files.put(f, FileTrees.sha256(tmp.resolve(f)));
            }
            // state.json last: its presence, with matching hashes, is what makes a checkpoint valid
            AtomicFiles.writeString(tmp.resolve(STATE), JSON.writeValueAsString(json));
            syncDir(tmp);
            if (Files.exists(target)) {
                // a checkpoint of this step that failed its check before the run was resumed
                deleteTree(target);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
            syncDir(dir);
        } catch (IOException | RuntimeException e) {
            String previous = list().stream().filter(p -> !p.equals(target)).reduce((a, b) -> b)
                    .map(p -> "the previous checkpoint " + p.getFileName() + " is intact")
                    .orElse("there is no earlier checkpoint");
            throw new CheckpointException("could not write the checkpoint of step " + state.step() + " into " + dir
                    + " (" + e + "); " + previous, e);
        } finally {
            if (tmp != null) {
                deleteQuietly(tmp);
            }
        }
        prune(state.bestStep());
        return target;
    }

    private ObjectNode stateJson(TrainState s) {
        ObjectNode n = JSON.createObjectNode();
        n.put("format", FORMAT);
        n.put("step", s.step());
        ObjectNode data = n.putObject("data");
        data.put("epoch", s.epoch());
        data.put("batch", s.batch());
        ObjectNode rng = n.putObject("rng");
        rng.put("data_order", "Batches.shuffled(seed, epoch), resumed at data.batch");
        rng.put("dropout", "libtorch seeded with seed * 1000003 + step before each step"
                + " (plus rank * 0x5DEECE66D on a data-parallel worker)");
        rng.put("next_dropout_seed", TrainState.dropoutSeed(((Number) identity.getOrDefault("seed", 0L)).longValue(),
                s.step()));
        ObjectNode opt = n.putObject("optimizer");
        opt.put("kind", optimizer.getClass().getSimpleName());
        opt.put("steps", optimizer.steps());
        n.put("schedule_position", s.step());
        n.put("tokens", s.tokens());
        n.put("train_seconds", s.trainSeconds());
        ObjectNode best = n.putObject("best");
        if (s.bestStep() > 0) {
            best.put("value", s.bestValue());
            best.put("step", s.bestStep());
        }
        best.put("evals_since", s.evalsSinceBest());
        n.set("last_eval", JSON.valueToTree(s.lastEval()));
        n.set("identity", JSON.valueToTree(identity));
        n.put("world_size", worldSize);
        return n;
    }

    /** Keeps the newest {@code keep} and the best; a failure to delete an old one costs only disk space. */
    private void prune(int bestStep) {
        List<Path> all = list();
        for (int i = 0; i < all.size() - keep; i++) {
            Path p = all.get(i);
            if (stepOf(p) != bestStep) {
                deleteQuietly(p);
            }
        }
    }

    /**
     * The newest checkpoint that passes its check; each one skipped is reported with the reason.
     * Null when there is none at all.
     */
    public Loaded newestValid(Consumer<String> report) {
        List<Path> all = new ArrayList<>(list());
        List<String> rejected = new ArrayList<>();
        for (int i = all.size() - 1; i >= 0; i--) {
            try {
                Loaded l = check(all.get(i));
                if (!rejected.isEmpty()) {
                    report.accept("using " + all.get(i).getFileName() + " instead");
                }
                return l;
            } catch (CheckpointException e) {
                rejected.add(e.getMessage());
                report.accept(e.getMessage());
            }
        }
        if (!rejected.isEmpty()) {
            throw new CheckpointException("no usable checkpoint in " + dir + ": " + String.join("; ", rejected));
        }
        return null;
    }

    /** Reads {@code state.json} and checks every file's hash and the run's identity. */
    public Loaded check(Path ckpt) {
        Path stateFile = ckpt.resolve(STATE);
        if (!Files.isRegularFile(stateFile)) {
            throw new CheckpointException("checkpoint " + ckpt.getFileName() + " is incomplete: " + STATE + " is missing");
        }
        JsonNode n;
        try {
            n = JSON.readTree(stateFile.toFile());
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + ckpt.getFileName() + " has an unreadable " + STATE + ": "
                    + e.getMessage(), e);
        }
        if (n.path("format").asInt() != FORMAT || !n.has("files")) {
            throw new CheckpointException("checkpoint " + ckpt.getFileName() + ": " + STATE + " is not a peft4j"
                    + " checkpoint of format " + FORMAT);
        }
        List<String> listed = new ArrayList<>(List.of(TRAINABLE, OPTIMIZER));
        if (n.path("files").has(HOOK)) {
            listed.add(HOOK);
        }
        for (String f : listed) {
            Path file = ckpt.resolve(f);
            if (!Files.isRegularFile(file)) {
                throw new CheckpointException("checkpoint " + ckpt.getFileName() + " is incomplete: " + f + " is missing");
            }
            String want = n.path("files").path(f).asText();
            String got;
            try {
                got = FileTrees.sha256(file);
            } catch (IOException e) {
                throw new CheckpointException("checkpoint " + ckpt.getFileName() + ": cannot read " + f, e);
            }
            if (!got.equals(want)) {
                throw new CheckpointException("checkpoint " + ckpt.getFileName() + " is damaged: " + f
                        + " has SHA-256 " + got + " but " + STATE + " recorded " + want);
            }
        }
        JsonNode savedIdentity = n.path("identity");
        for (Map.Entry<String, Object> e : identity.entrySet()) {
            String saved = savedIdentity.path(e.getKey()).asText();
            if (!saved.equals(String.valueOf(e.getValue()))) {
                throw new CheckpointException("checkpoint " + ckpt.getFileName() + " was made with " + e.getKey()
                        + " = " + saved + " but this run has " + e.getValue() + "; resume with the recipe that made it,"
                        + " or start a new run directory");
            }
        }
        JsonNode best = n.path("best");
        Map<String, Double> lastEval = new LinkedHashMap<>();
        n.path("last_eval").fields().forEachRemaining(f -> lastEval.put(f.getKey(), f.getValue().asDouble()));
        TrainState state = new TrainState(n.path("step").asInt(), n.path("data").path("epoch").asInt(),
                n.path("data").path("batch").asInt(), n.path("tokens").asLong(), n.path("train_seconds").asDouble(),
                best.has("value") ? best.path("value").asDouble() : Double.NaN, best.path("step").asInt(0),
                best.path("evals_since").asInt(), lastEval);
        return new Loaded(ckpt, state, n.path("optimizer").path("steps").asInt(), n);
    }

    /** Puts a checkpoint's weights and optimizer state back into the live parameters and optimizer. */
    public void restore(Loaded ckpt, NDManager manager) {
        restoreWeights(ckpt.dir(), manager);
        NDManager m = manager.newSubManager();
        try (m) {
            optimizer.loadState(SafeTensors.read(ckpt.dir().resolve(OPTIMIZER), m), ckpt.optimizerSteps());
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointException("cannot restore the optimizer state of " + ckpt.dir().getFileName() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Puts a checkpoint's step-hook state back into {@code hook}; a hook without state needs none.
     * A hook with state refuses a checkpoint that holds none (one written without that hook).
     */
    public void restoreHook(Loaded ckpt, StepHook hook, NDManager manager) {
        try (NDScope probe = new NDScope()) {
            if (hook.state().isEmpty()) {
                return;
            }
        }
        JsonNode saved = ckpt.json().path("hook");
        if (saved.isMissingNode() || !ckpt.json().path("files").has(HOOK)) {
            throw new CheckpointException("checkpoint " + ckpt.dir().getFileName() + " holds no " + HOOK + ", but this"
                    + " run's step hook keeps state between steps (AdaLoRA's scores and mask); it cannot be resumed"
                    + " exactly: start a new run directory");
        }
        Map<String, Long> counters = new LinkedHashMap<>();
        saved.path("counters").fields().forEachRemaining(f -> counters.put(f.getKey(), f.getValue().asLong()));
        NDManager m = manager.newSubManager();
        try (m) {
            hook.restore(new HookState(SafeTensors.read(ckpt.dir().resolve(HOOK), m), counters));
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointException("cannot restore the step hook's state from " + ckpt.dir().getFileName() + ": "
                    + e.getMessage(), e);
        }
    }

    /** Puts a checkpoint's trainable weights back (the best checkpoint at the end of a run, say). */
    public void restoreWeights(Path ckpt, NDManager manager) {
        NDManager m = manager.newSubManager();
        try (m) {
            Map<String, NDArray> saved = SafeTensors.read(ckpt.resolve(TRAINABLE), m);
            if (!saved.keySet().equals(trainable.keySet())) {
                throw new CheckpointException("checkpoint " + ckpt.getFileName() + " holds weights " + saved.keySet()
                        + " but this run trains " + trainable.keySet() + "; it is from another model or adapter");
            }
            trainable.forEach((k, p) -> {
                NDArray s = saved.get(k);
                if (!s.getShape().equals(p.value().getShape())) {
                    throw new CheckpointException("checkpoint " + ckpt.getFileName() + ": '" + k + "' has shape "
                            + s.getShape() + " but the model's is " + p.value().getShape());
                }
                // in place, so the optimizer and the autograd graph keep the same arrays
                p.value().set(s.toByteBuffer());
            });
        } catch (IOException e) {
            throw new CheckpointException("cannot read the weights of " + ckpt.getFileName() + ": " + e.getMessage(), e);
        }
    }

    /** Makes a rename or a new file in {@code d} durable; file systems that cannot sync a folder are let be. */
    private static void syncDir(Path d) {
        try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // the data files themselves are synced; only the directory entry's durability is at stake
        }
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            deleteTree(p);
        } catch (IOException ignored) {
            // a leftover folder wastes space but never passes as a checkpoint: hidden or without state.json
        }
    }
}
