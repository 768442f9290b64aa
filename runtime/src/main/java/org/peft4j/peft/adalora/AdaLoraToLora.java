package org.peft4j.peft.adalora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.SafeTensors;
import org.peft4j.peft.PeftFiles;
import org.peft4j.peft.PeftType;
import org.peft4j.tensor.Backend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An AdaLoRA adapter rewritten as a plain PEFT LoRA adapter, so that anything that serves LoRA
 * (PEFT's {@code LoraConfig}, vLLM, llama.cpp's converters) takes it. Each module keeps its
 * surviving triplets as a LoRA of rank k (PEFT's {@code rank_pattern}); a module with none is left
 * out of the targets. The update is exactly the one PEFT's AdaLoRA layer adds (Eq. 3 with PEFT's
 * scaling):
 *
 * <pre>
 *   ΔW = P diag(λ) Q · α / (ranknum + 1e-5)     ranknum = init_r (PEFT keeps it through pruning)
 *      = (α / k) · B A   with  B = P [out, k],  A = diag(λ) Q · k / (init_r + 1e-5) [k, in]
 * </pre>
 *
 * so that LoRA's scaling α / k (lora_alpha = the AdaLoRA's, r = k per module) gives the same ΔW.
 * The modules to save are copied unchanged. Only the files are read: no model is needed.
 */
public final class AdaLoraToLora {

    /** PEFT's AdaLoRA divides by ranknum + 1e-5 ({@code SVDLinear.forward}). */
    static final double RANKNUM_EPS = 1e-5;

    private AdaLoraToLora() {
    }

    /**
     * Writes the LoRA form of the AdaLoRA adapter in {@code adaloraDir} to {@code outDir} (which
     * must not hold an adapter yet) and returns the rank of each module, 0 for those left out.
     *
     * @throws IllegalArgumentException when the directory is not an AdaLoRA adapter, or every
     *                                  module was pruned to rank 0 (there is nothing to serve)
     */
    public static Map<String, Integer> write(Path adaloraDir, Path outDir) throws IOException {
        JsonNode config = PeftFiles.readConfig(adaloraDir);
        if (PeftFiles.peftType(config, adaloraDir) != PeftType.ADALORA) {
            throw new IllegalArgumentException(adaloraDir.resolve(PeftFiles.CONFIG) + ": peft_type is '"
                    + config.path("peft_type").asText("LORA") + "'; only an AdaLoRA adapter is exported to LoRA");
        }
        if (Files.exists(outDir.resolve(PeftFiles.CONFIG)) || Files.exists(outDir.resolve(PeftFiles.WEIGHTS))) {
            throw new IOException(outDir + " already holds an adapter; choose another --out");
        }
        int initR = config.path("init_r").asInt(12);
        double alpha = config.path("lora_alpha").asDouble(8);
        Map<String, Integer> ranks = new LinkedHashMap<>();
        try (NDManager manager = Backend.get().manager().newSubManager()) {
            Map<String, NDArray> in = new LinkedHashMap<>();
            SafeTensors.read(PeftFiles.weights(adaloraDir), manager).forEach((key, t) -> {
                String path = PeftFiles.modelPath(key);
                in.put(path == null ? key : path, t);
            });
            Map<String, NDArray> out = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> e : in.entrySet()) {
                String name = e.getKey();
                if (name.endsWith(".lora_E") || name.endsWith(".lora_B")) {
                    continue;
                }
                if (!name.endsWith(".lora_A")) {
                    out.put(PeftFiles.PREFIX + name, e.getValue());             // a module to save
                    continue;
                }
                String path = name.substring(0, name.length() - ".lora_A".length());
                NDArray q = e.getValue();                                     // Q [k, in]
                NDArray lambda = in.get(path + ".lora_E");                    // Λ [k, 1]
                NDArray p = in.get(path + ".lora_B");                         // P [out, k]
                if (lambda == null || p == null) {
                    throw new IllegalArgumentException(adaloraDir.resolve(PeftFiles.WEIGHTS) + ": " + path
                            + " has lora_A but not lora_E and lora_B; the AdaLoRA adapter is incomplete");
                }
                int k = (int) q.getShape().get(0);
                ranks.put(path, k);
                if (k == 0) {
                    continue;
                }
                double fold = k / (initR + RANKNUM_EPS);
                out.put(PeftFiles.PREFIX + path + ".lora_A.weight", q.mul(lambda).mul((float) fold));
                out.put(PeftFiles.PREFIX + path + ".lora_B.weight", p);
            }
            List<String> kept = ranks.entrySet().stream().filter(x -> x.getValue() > 0).map(Map.Entry::getKey).toList();
            if (kept.isEmpty()) {
                throw new IllegalArgumentException(adaloraDir + ": every module was pruned to rank 0 " + ranks.keySet()
                        + ", so the adapter adds nothing and there is no LoRA to write");
            }
            Files.createDirectories(outDir);
            SafeTensors.write(outDir.resolve(PeftFiles.WEIGHTS), out, Map.of("format", "pt"));
        }
        AtomicFiles.writeString(outDir.resolve(PeftFiles.CONFIG), PeftFiles.JSON.writeValueAsString(
                loraConfig(config, alpha, ranks)));
        return ranks;
    }

    /** PEFT's LoraConfig for the exported tensors: the surviving modules by path, each with its rank. */
    private static ObjectNode loraConfig(JsonNode ada, double alpha, Map<String, Integer> ranks) {
        ObjectNode n = PeftFiles.JSON.createObjectNode();
        n.put("peft_type", "LORA");
        n.set("task_type", ada.get("task_type"));
        n.set("base_model_name_or_path", ada.get("base_model_name_or_path"));
        List<String> kept = new ArrayList<>();
        ranks.forEach((path, k) -> {
            if (k > 0) {
                kept.add(path);
            }
        });
        n.put("r", kept.stream().mapToInt(ranks::get).max().orElse(1));
        n.put("lora_alpha", alpha);
        n.put("lora_dropout", ada.path("lora_dropout").asDouble(0));
        ArrayNode targets = n.putArray("target_modules");
        kept.forEach(targets::add);
        n.putNull("exclude_modules");
        n.put("bias", "none");
        JsonNode save = ada.get("modules_to_save");
        if (save == null) {
            n.putNull("modules_to_save");
        } else {
            n.set("modules_to_save", save);
        }
        n.put("fan_in_fan_out", ada.path("fan_in_fan_out").asBoolean(false));
        n.put("init_lora_weights", true);
        n.put("use_rslora", false);
        n.put("use_dora", false);
        ObjectNode pattern = n.putObject("rank_pattern");
        kept.forEach(path -> pattern.put(path, ranks.get(path)));
        n.putObject("alpha_pattern");
        n.putNull("layers_to_transform");
        n.putNull("layers_pattern");
        n.put("inference_mode", true);
        return n;
    }
}
