package org.peft4j.cli

import org.peft4j.models.EmbeddedModels
import org.peft4j.models.ModelSpec

import java.nio.file.Files
import java.nio.file.Path

/** How the commands read a MODEL argument: an embedded name, or a Hugging Face directory that must exist. */
final class Models {

    private Models() {
    }

    /** 'minilm' resolves to its cached import; anything else must be a directory with config.json. */
    static Path directory(String model) {
        if (ModelSpec.EMBEDDED.contains(model)) {
            return EmbeddedModels.resolve(model)
        }
        modelDir(Path.of(model), 'model')
    }

    /** A directory argument, checked up front so that the user sees which one is wrong and why. */
    static Path modelDir(Path dir, String what) {
        if (!Files.isDirectory(dir)) {
            throw new UserError("${dir}: no such ${what} directory" +
                    (what == 'model' ? " (give ${ModelSpec.EMBEDDED.join(', ')} or a Hugging Face model directory)" : ''))
        }
        if (what == 'model' && !Files.isRegularFile(dir.resolve('config.json'))) {
            throw new UserError("${dir}: not a Hugging Face model directory (no config.json)")
        }
        dir
    }

    static Path inputFile(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new UserError("${file}: no such ${what} file")
        }
        file
    }
}
