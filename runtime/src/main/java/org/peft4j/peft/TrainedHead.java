package org.peft4j.peft;

import org.peft4j.io.SafeTensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Finds a sequence classifier's trained head on disk, so that commands given only a model and an
 * adapter know how many classes there are: the adapter's saved {@code classifier} (its modules to
 * save) comes first, since it replaces the model's; else the model checkpoint's own. Only the
 * safetensors headers are read.
 */
public final class TrainedHead {

    private TrainedHead() {
    }

    /**
     * The rows of the trained {@code classifier.weight}, or empty when neither file holds one (a
     * classifier built on it would start from random weights).
     *
     * @param adapterDir a PEFT adapter directory, or null
     */
    public static OptionalInt rows(Path modelDir, Path adapterDir) throws IOException {
        if (adapterDir != null) {
            Path file = adapterDir.resolve(PeftFiles.WEIGHTS);
            if (!Files.isRegularFile(file)) {
                throw new IOException(file + " does not exist: an adapter directory holds " + PeftFiles.CONFIG
                        + " and " + PeftFiles.WEIGHTS);
            }
            OptionalInt saved = rows(SafeTensors.header(file), true);
            if (saved.isPresent()) {
                return saved;
            }
        }
        Path weights = modelDir.resolve("model.safetensors");
        return Files.isRegularFile(weights) ? rows(SafeTensors.header(weights), false) : OptionalInt.empty();
    }

    private static OptionalInt rows(Map<String, SafeTensors.Entry> header, boolean peftKeys) {
        for (SafeTensors.Entry e : header.values()) {
            String path = peftKeys ? PeftFiles.modelPath(e.name()) : e.name();
            if ("classifier.weight".equals(path) && e.shape().length == 2) {
                return OptionalInt.of(Math.toIntExact(e.shape()[0]));
            }
        }
        return OptionalInt.empty();
    }
}
