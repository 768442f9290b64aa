package org.peft4j.peft.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.peft4j.io.FileTrees;
import org.peft4j.io.SafeTensors;
import org.peft4j.models.core.CausalLm;
import org.peft4j.models.Registry;
import org.peft4j.models.core.Task;
import org.peft4j.models.core.CheckpointFiles;
import org.peft4j.models.core.WeightLoader;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.peft.adalora.AdaLoraFiles;
import org.peft4j.peft.adalora.SvdLinear;
import org.peft4j.tensor.Backend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A decoder (Llama, Mistral, Qwen2 or GPT-2, see {@link Registry}) with a PEFT adapter folded into
 * its weights: loaded in memory for generation without an adapter branch, or written as a plain
 * Hugging Face directory that {@code transformers} and {@link Registry#load} load as the
 * base architecture.
 *
 * <p>The written {@code model.safetensors} carries exactly the base checkpoint's tensor names in
 * their stored layouts (GPT-2's Conv1D stays [in, out]; names with or without GPT-2's
 * {@code transformer.} prefix, as the base has them). A tied head is not written, since the
 * embedding is the head; buffers the loader does not use (rotary {@code inv_freq}, GPT-2's
 * {@code attn.bias}) are copied from the base. Every tensor is written in f32 whatever the base
 * stored: the merge is computed in f32, and rounding W + ΔW back to bf16 would lose much of a small
 * ΔW. {@code config.json} is copied unchanged.
 */
public final class MergedDecoder {

    /** Files copied along when the base has them: the tokenizer in its fast and slow forms, and decoding defaults. */
    static final List<String> SIDE_FILES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "added_tokens.json", "tokenizer.model", "vocab.json", "merges.txt", "generation_config.json");

    private static final String TIED_HEAD = "lm_head.weight";
    private static final String GPT2_PREFIX = "transformer.";

    private MergedDecoder() {
    }

    /**
     * Loads the decoder of {@code modelDir} and folds the adapter of {@code adapterDir} into its
     * weights (LoRA or AdaLoRA by {@code adapter_config.json}'s peft_type): the result has the base's
     * modules only, in evaluation mode. An adapter that does not fit is refused and the model freed;
     * a LoRA adapter's mismatches are all named at once ({@link AdapterFiles#load}), an AdaLoRA
     * adapter's as {@link AdaLoraFiles#load} finds them.
     *
     * @throws IllegalArgumentException when the model_type is not a decoder, the peft_type is
     *                                  unknown, or the adapter does not fit (a ConfigException for LoRA)
     */
    public static CausalLm load(Path modelDir, Path adapterDir) throws IOException {
        PeftType type = peftType(adapterDir);
        CausalLm lm = Registry.load(modelDir, Task.CAUSAL_LM);
        Module root = (Module) lm;
        try {
            foldIn(root, adapterDir, type, Backend.get().manager());
        } catch (IOException | RuntimeException e) {
            free(root);
            throw e;
        }
        root.train(false);
        return lm;
    }

    /**
     * The offline merge of a decoder ({@code peft4j merge} on a Llama-family or GPT-2 directory):
     * loads base and adapter, and writes the merged directory. Nothing is written when the adapter
     * does not fit or {@code outDir} holds something.
     */
    public static void merge(Path modelDir, Path adapterDir, Path outDir) throws IOException {
        MergedExport.checkTarget(outDir);
        Module root = (Module) load(modelDir, adapterDir);
        try {
            write(root, modelDir, outDir);
        } finally {
            // the parameters live in the engine's long-lived manager; free them with the merge
            free(root);
        }
    }

    /**
     * Writes {@code merged} (a decoder loaded from {@code sourceDir} whose adapters were merged and
     * unloaded) to {@code outDir}, which appears whole or not at all.
     *
     * @throws IllegalArgumentException when the model still holds adapter layers, or has a
     *                                  parameter the base checkpoint does not name
     */
    public static void write(Module merged, Path sourceDir, Path outDir) throws IOException {
        List<String> wrapped = new ArrayList<>();
        merged.namedModules().forEach((path, m) -> {
            if (m instanceof LoraLinear || m instanceof SvdLinear) {
                wrapped.add(path);
            }
        });
        if (!wrapped.isEmpty()) {
            throw new IllegalArgumentException("the model still has adapter layers at " + wrapped
                    + "; call mergeAndUnload() first, so that only base weights are written");
        }
        Path config = WeightLoader.requireFile(sourceDir, "config.json", "the model configuration");
        CheckpointFiles base = CheckpointFiles.open(sourceDir);
        MergedExport.checkTarget(outDir);
        Path tmp = Files.createDirectories(MergedExport.scratch(outDir));
        NDManager copies = Backend.get().manager().newSubManager();
        try {
            SafeTensors.write(tmp.resolve("model.safetensors"), tensors(merged, base, copies), Map.of("format", "pt"));
            Files.copy(config, tmp.resolve("config.json"));
            for (String name : SIDE_FILES) {
                Path f = sourceDir.resolve(name);
                if (Files.isRegularFile(f)) {
                    Files.copy(f, tmp.resolve(name));
                }
            }
            MergedExport.publish(tmp, outDir);
        } finally {
            copies.close();
            FileTrees.deleteRecursively(tmp);
        }
    }

    /**
     * The tensors to write, under the base checkpoint's names in its order: each name's parameter
     * (now merged), a tied head left out, and any other tensor the model does not hold copied from
     * the base into {@code copies}.
     */
    static Map<String, NDArray> tensors(Module merged, CheckpointFiles base, NDManager copies) throws IOException {
        Map<String, Parameter> params = merged.namedParameters();
        Set<String> unwritten = new LinkedHashSet<>(params.keySet());
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (String name : base.entries().keySet()) {
            String path = params.containsKey(name) ? name
                    : params.containsKey(GPT2_PREFIX + name) ? GPT2_PREFIX + name : null;
            if (path != null) {
                out.put(name, params.get(path).value());
                unwritten.remove(path);
            } else if (!name.equals(TIED_HEAD)) {
                out.put(name, base.read(name, copies));
            }
            // else: a stored copy of a tied head; transformers ties it to the embedding on load
        }
        if (!unwritten.isEmpty()) {
            throw new IllegalArgumentException("parameters " + unwritten + " have no tensor in " + base
                    + "; the merged model must come from that checkpoint");
        }
        return out;
    }

    /** Which adapter method a directory holds. */
    enum PeftType { LORA, ADALORA }

    /** adapter_config.json's peft_type; PEFT always writes it, and a file without it is read as LoRA. */
    static PeftType peftType(Path adapterDir) throws IOException {
        Path file = adapterDir.resolve(AdapterFiles.CONFIG);
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " does not exist: an adapter directory holds " + AdapterFiles.CONFIG
                    + " and " + AdapterFiles.WEIGHTS);
        }
        JsonNode type;
        try {
            type = new ObjectMapper().readTree(file.toFile()).path("peft_type");
        } catch (IOException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (type.isMissingNode() || type.isNull() || "LORA".equals(type.asText())) {
            return PeftType.LORA;
        }
        if ("ADALORA".equals(type.asText())) {
            return PeftType.ADALORA;
        }
        throw new IllegalArgumentException(file + ": peft_type = '" + type.asText()
                + "' cannot be merged by peft4j; valid: LORA, ADALORA");
    }

    /**
     * Loads the adapter into {@code root}, merges it and puts the base layers back. The adapter's
     * own tensors are freed afterwards; modules to save and trained biases stay, as they are the
     * model's parameters now.
     */
    private static void foldIn(Module root, Path adapterDir, PeftType type, NDManager manager) throws IOException {
        Map<String, Parameter> adapterParams;
        if (type == PeftType.ADALORA) {
            var adalora = AdaLoraFiles.load(adapterDir, root, manager);
            adapterParams = adalora.adapterParameters();
            adalora.mergeAndUnload();
        } else {
            var lora = AdapterFiles.load(adapterDir, root, manager);
            adapterParams = lora.adapterParameters();
            lora.mergeAndUnload();
        }
        Map<Parameter, Boolean> kept = new IdentityHashMap<>();
        root.namedParameters().values().forEach(p -> kept.put(p, true));
        adapterParams.values().stream().filter(p -> !kept.containsKey(p)).forEach(p -> p.value().close());
    }

    private static void free(Module root) {
        root.namedParameters().values().forEach(p -> p.value().close());
    }
}
