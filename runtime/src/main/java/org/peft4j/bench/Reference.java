package org.peft4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code bench/pytorch_reference.py --json FILE} measured: eager PyTorch's tokens/s per mode
 * ("lora", "full", "inference") on the same model, batch and step, for ratios beside our own figures.
 */
public record Reference(String torch, int batch, int seqLen, Map<String, Double> tokensPerSecond) {

    public static Reference read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(Files.readString(file));
        if (root == null || !root.has("results")) {
            throw new IOException(file + ": not a pytorch_reference.py --json file (no \"results\")");
        }
        Map<String, Double> tps = new LinkedHashMap<>();
        root.get("results").fields().forEachRemaining(e -> tps.put(e.getKey(), e.getValue().get("tokens_per_second").asDouble()));
        return new Reference(root.path("torch").asText("?"), root.path("batch").asInt(), root.path("seq").asInt(), tps);
    }
}
