package org.peft4j.spark;

import org.peft4j.models.EmbeddedModels;
import org.peft4j.models.ModelSpec;
import org.peft4j.tensor.Backend;
import org.peft4j.tensor.BackendConfig;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The models of this JVM (a Spark executor, or the driver in local mode): the first task that
 * needs a model loads it, every later task of the JVM reuses it, so a job loads each model once
 * per executor, not once per partition. Keyed by everything that changes what a model computes.
 */
final class ExecutorModels {

    /** What a model is loaded from and with; sent to the executors with the job. */
    record Key(String kind, String model, String adapter, int maxLength, Serializable settings) implements Serializable {
    }

    /** Loads a model; runs once per key and JVM. */
    @FunctionalInterface
    interface Loader<M> {
        M load(Path modelDir, Path adapterDir) throws IOException;
    }

    private static final Map<Key, Object> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    private ExecutorModels() {
    }

    /** The model for {@code key}, loaded by the first caller of this JVM; the others wait for it. */
    @SuppressWarnings("unchecked")
    static <M> M get(Key key, int threads, Loader<M> loader) {
        return (M) MODELS.computeIfAbsent(key, k -> {
            // an executor never downloads: libtorch comes from the pytorch-native-cpu jar
            if (System.getProperty("ai.djl.offline") == null) {
                System.setProperty("ai.djl.offline", "true");
            }
            if (threads > 0) {
                Backend.start(new BackendConfig("cpu", "float32", threads));
            }
            try {
                M model = loader.load(directory(k.model()), k.adapter() == null ? null : existing(Path.of(k.adapter()), "adapter"));
                LOADS.incrementAndGet();
                return model;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** How many models this JVM has loaded. */
    static int loads() {
        return LOADS.get();
    }

    private static Path directory(String model) throws IOException {
        if (ModelSpec.EMBEDDED.contains(model)) {
            return EmbeddedModels.resolve(model);
        }
        Path dir = existing(Path.of(model), "model");
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException(dir + " on this executor is not a Hugging Face model directory (no config.json)");
        }
        return dir;
    }

    private static Path existing(Path dir, String what) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + ": no such " + what + " directory on this executor; every executor"
                    + " reads the " + what + " from this path, so put it on a filesystem they share or copy it to each");
        }
        return dir;
    }
}
