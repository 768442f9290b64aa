package org.peft4j.run;

import ai.djl.ndarray.NDArray;
import org.peft4j.io.SafeTensors;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
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
}
