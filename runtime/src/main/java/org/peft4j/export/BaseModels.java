package org.peft4j.export;

import org.peft4j.models.Registry;
import org.peft4j.models.core.SequenceClassifier;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The one place where a merge loads a base model, through the {@link Registry}: a decoder, a bare
 * encoder, or a sequence classifier.
 */
final class BaseModels {

    private BaseModels() {
    }

    /** A decoder directory, whose merge keeps the checkpoint's own names. */
    static boolean isDecoder(Path dir) throws IOException {
        return Registry.builds(dir, Task.Kind.CAUSAL_LM);
    }

    static Module decoder(Path dir) throws IOException {
        return (Module) Registry.load(dir, Task.CAUSAL_LM);
    }

    /** The bare encoder, as {@code embed} loads it. */
    static Module encoder(Path dir) throws IOException {
        return (Module) Registry.load(dir, Task.ENCODER);
    }

    /** The sequence classifier of {@code task} (its outputs and head), as {@code predict} loads it. */
    static Module classifier(Path dir, Task<SequenceClassifier> task) throws IOException {
        return (Module) Registry.load(dir, task);
    }
}
