package org.peft4j.export;

import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.CausalLm;
import org.peft4j.models.core.CheckpointFiles;
import org.peft4j.models.core.WeightLoader;
import org.peft4j.nn.Module;
import org.peft4j.peft.AdapterLayer;
import org.peft4j.tensor.Backend;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A decoder (Llama, Mistral, Qwen2 or GPT-2) with a PEFT adapter folded into its weights: loaded
 * in memory for generation without an adapter branch, or written as a plain Hugging Face directory
 * that {@code transformers} and peft4j load as the base architecture.
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

    private MergedDecoder() {
    }

    /**
     * Loads the decoder of {@code modelDir} and folds the adapter of {@code adapterDir} into its
     * weights (LoRA or AdaLoRA by {@code adapter_config.json}'s peft_type): the result has the base's
     * modules only, in evaluation mode. An adapter that does not fit is refused and the model freed.
     *
     * @throws IllegalArgumentException when the model_type is not a decoder, the peft_type is
     *                                  unknown, or the adapter does not fit (a ConfigException for LoRA)
     */
    public static CausalLm load(Path modelDir, Path adapterDir) throws IOException {
        Module root = BaseModels.decoder(modelDir);
        try {
            MergedExport.foldIn(root, adapterDir);
        } catch (IOException | RuntimeException e) {
            MergedExport.free(root);
            throw e;
        }
        root.train(false);
        return (CausalLm) root;
    }

    /**
     * The offline merge of a decoder ({@code peft4j merge} on the directory of any decoder family):
     * loads base and adapter, and writes the merged directory. Nothing is written when the adapter
     * does not fit or {@code outDir} holds something.
     */
    public static void merge(Path modelDir, Path adapterDir, Path outDir) throws IOException {
        MergedDirectory.checkTarget(outDir);
        Module root = (Module) load(modelDir, adapterDir);
        try {
            write(root, modelDir, outDir);
        } finally {
            MergedExport.free(root);
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
            if (m instanceof AdapterLayer) {
                wrapped.add(path);
            }
        });
        if (!wrapped.isEmpty()) {
            throw new IllegalArgumentException("the model still has adapter layers at " + wrapped
                    + "; call mergeAndUnload() first, so that only base weights are written");
        }
        Path config = WeightLoader.requireFile(sourceDir, "config.json", "the model configuration");
        CheckpointFiles base = CheckpointFiles.open(sourceDir);
        MergedDirectory.checkTarget(outDir);
        NDManager copies = Backend.get().manager().newSubManager();
        try {
            MergedDirectory.write(sourceDir, outDir, MergedDirectory.tensors(MergedDirectory.plainParameters(merged),
                    merged.children().keySet(), base, copies, true), java.nio.file.Files.readString(config));
        } finally {
            copies.close();
        }
    }
}
