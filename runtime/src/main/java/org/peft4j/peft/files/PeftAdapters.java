package org.peft4j.peft.files;

import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Module;
import org.peft4j.peft.AdapterModel;
import org.peft4j.peft.PeftFiles;
import org.peft4j.peft.PeftType;
import org.peft4j.peft.adalora.AdaLoraFiles;
import org.peft4j.peft.lora.AdapterFiles;
import org.peft4j.tensor.Backend;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Loads any adapter directory PEFT (or peft4j) wrote, LoRA or AdaLoRA as its
 * {@code adapter_config.json} says: the one place that chooses the method, so that every command
 * takes both. What comes back is the adapter contract; the method's own reader has checked the
 * files against the model before anything changed.
 */
public final class PeftAdapters {

    private PeftAdapters() {
    }

    /** The method of the adapter in {@code dir}, by its {@code peft_type}. */
    public static PeftType peftType(Path dir) throws IOException {
        return PeftFiles.peftType(PeftFiles.readConfig(dir), dir);
    }

    /** {@link #load(Path, Module, NDManager)} on the default engine. */
    public static AdapterModel load(Path dir, Module root) throws IOException {
        return load(dir, root, Backend.get().manager());
    }

    /**
     * Puts the adapter of {@code dir} into {@code root} with its saved weights.
     *
     * @throws IllegalArgumentException for a peft_type peft4j does not run, or an adapter that does
     *                                  not fit (a {@link org.peft4j.config.ConfigException} listing
     *                                  every mismatch of a LoRA adapter)
     */
    public static AdapterModel load(Path dir, Module root, NDManager manager) throws IOException {
        return switch (peftType(dir)) {
            case LORA -> AdapterFiles.load(dir, root, manager);
            case ADALORA -> AdaLoraFiles.load(dir, root, manager);
        };
    }
}
