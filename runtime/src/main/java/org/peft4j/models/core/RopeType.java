package org.peft4j.models.core;

import java.util.Arrays;
import java.util.List;

/** The rotary frequency schemes peft4j computes, by their {@code rope_type} name in Hugging Face configs. */
public enum RopeType {
    /** θ_i = theta^(−2i/hs), unscaled (Su et al. 2021). */
    DEFAULT("default"),
    /** Position interpolation (Chen et al. 2023): every frequency divided by {@code factor}. */
    LINEAR("linear"),
    /** Dynamic NTK: theta grows with the sequence once it is longer than max_position_embeddings. */
    DYNAMIC("dynamic"),
    /** Llama 3.1's banded scaling. */
    LLAMA3("llama3"),
    /** YaRN (Peng et al. 2023): NTK-by-parts interpolation and an attention temperature. */
    YARN("yarn");

    private final String hfName;

    RopeType(String hfName) {
        this.hfName = hfName;
    }

    public String hfName() {
        return hfName;
    }

    /** The type named {@code name}, or null. */
    public static RopeType named(String name) {
        return Arrays.stream(values()).filter(t -> t.hfName.equals(name)).findFirst().orElse(null);
    }

    /** Every name, for messages. */
    public static List<String> names() {
        return Arrays.stream(values()).map(RopeType::hfName).toList();
    }
}
