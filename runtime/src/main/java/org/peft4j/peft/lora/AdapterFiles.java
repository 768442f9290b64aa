package org.peft4j.peft.lora;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.SafeTensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adapters on disk in Hugging Face PEFT's layout, so that Python can load ours and we theirs:
 * {@code adapter_config.json} and {@code adapter_model.safetensors} with keys
 * {@code base_model.model.<path>.lora_A.weight} [r, in], {@code ...lora_B.weight} [out, r], and the
 * modules to save as {@code base_model.model.<path>.weight}.
 */
public final class AdapterFiles {

    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    static final String PREFIX = "base_model.model.";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private AdapterFiles() {
    }

    /**
     * @param taskType  PEFT's task type, e.g. "SEQ_CLS"
     * @param baseModel what the adapter was trained on (a hub id or a directory)
     */
    public static void save(LoraModel model, Path dir, String taskType, String baseModel) throws IOException {
        Files.createDirectories(dir);
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        model.adapterParameters().forEach((path, p) -> tensors.put(PREFIX + path, p.value()));
        SafeTensors.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
        AtomicFiles.writeString(dir.resolve(CONFIG), JSON.writeValueAsString(configJson(model, taskType, baseModel)));
    }

    static ObjectNode configJson(LoraModel model, String taskType, String baseModel) {
        LoraConfig c = model.config();
        ObjectNode n = JSON.createObjectNode();
        n.put("peft_type", "LORA");
        n.put("task_type", taskType);
        n.put("base_model_name_or_path", baseModel);
        n.put("r", c.r());
        n.put("lora_alpha", c.alpha());
        n.put("lora_dropout", c.dropout());
        if (c.targetRegex() != null) {
            n.put("target_modules", c.targetRegex());
        } else {
            ArrayNode t = n.putArray("target_modules");
            c.targets().forEach(t::add);
        }
        n.put("bias", "none");
        ArrayNode save = n.putArray("modules_to_save");
        c.modulesToSave().forEach(save::add);
        if (c.modulesToSave().isEmpty()) {
            n.putNull("modules_to_save");
        }
        n.put("fan_in_fan_out", false);
        n.put("init_lora_weights", true);
        n.put("use_rslora", false);
        n.put("use_dora", false);
        n.putObject("rank_pattern");
        n.putObject("alpha_pattern");
        n.putNull("layers_to_transform");
        n.put("inference_mode", true);
        return n;
    }
}
