package org.peft4j.run;

import ai.djl.ndarray.NDArray;
import org.peft4j.io.SafeTensors;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A fully fine-tuned model's weights, as {@code model.safetensors} with Hugging Face names. */
final class FullWeights {

    private FullWeights() {
    }

    static void save(Module model, Path dir) throws IOException {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        model.namedParameters().forEach((k, p) -> tensors.put(k, p.value()));
        SafeTensors.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
    }

    /**
     * A complete Hugging Face directory {@code out}: the weights as model.safetensors beside the files of
     * {@code source} named in {@code carried} (config and tokenizer), those it has.
     */
    static Path saveDirectory(Module model, Path source, Path out, List<String> carried) throws IOException {
        Files.createDirectories(out);
        save(model, out);
        for (String f : carried) {
            if (Files.isRegularFile(source.resolve(f))) {
                Files.copy(source.resolve(f), out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return out;
    }
}
