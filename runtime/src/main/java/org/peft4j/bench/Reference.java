package org.peft4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the PyTorch anchor ({@link Anchor}, or {@code pytorch_anchor.py --json FILE}) measured: tokens/s
 * per mode ("lora", "adalora", "full", "inference") in fp32 eager, and with "_bf16" under bfloat16
 * autocast, on the same model, batch and step, for ratios beside our own figures.
 */
public record Reference(String torch, int batch, int seqLen, Map<String, Double> tokensPerSecond) {

    public static Reference read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(Files.readString(file));
        if (root == null || !root.has("results")) {
            throw new IOException(file + ": not a pytorch_anchor.py --json file (no \"results\")");
        }
        Map<String, Double> tps = new LinkedHashMap<>();
        root.get("results").fields().forEachRemaining(e -> tps.put(e.getKey(), e.getValue().get("tokens_per_second").asDouble()));
        return new Reference(root.path("torch").asText("?"), root.path("batch").asInt(), root.path("seq").asInt(), tps);
    }

    /** The faster of the mode's fp32 and bf16 figures: the setup a PyTorch user would pick; NaN if neither ran. */
    public double best(String mode) {
        double fp32 = tokensPerSecond.getOrDefault(mode, Double.NaN);
        double bf16 = tokensPerSecond.getOrDefault(mode + "_bf16", Double.NaN);
        return Double.isNaN(fp32) ? bf16 : Double.isNaN(bf16) ? fp32 : Math.max(fp32, bf16);
    }

    /** Which precision {@link #best} took: "fp32" or "bf16". */
    public String bestPrecision(String mode) {
        double bf16 = tokensPerSecond.getOrDefault(mode + "_bf16", Double.NaN);
        return !Double.isNaN(bf16) && bf16 == best(mode) ? "bf16" : "fp32";
    }
}
