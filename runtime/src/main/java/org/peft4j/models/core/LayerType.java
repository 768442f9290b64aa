package org.peft4j.models.core;

import java.util.Arrays;
import java.util.List;

/** How a decoder layer attends, by its {@code layer_types} name. */
public enum LayerType {
    /** Every earlier position. */
    FULL_ATTENTION("full_attention"),
    /** The last sliding_window positions only. */
    SLIDING_ATTENTION("sliding_attention");

    private final String hfName;

    LayerType(String hfName) {
        this.hfName = hfName;
    }

    public String hfName() {
        return hfName;
    }

    /** The type named {@code name}, or null. */
    public static LayerType named(String name) {
        return Arrays.stream(values()).filter(t -> t.hfName.equals(name)).findFirst().orElse(null);
    }

    public static List<String> names() {
        return Arrays.stream(values()).map(LayerType::hfName).toList();
    }
}
