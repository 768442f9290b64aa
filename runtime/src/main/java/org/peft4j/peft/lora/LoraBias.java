package org.peft4j.peft.lora;

/** Which biases train with the adapter, as PEFT's {@code bias} option: none, all, or only those of adapted layers. */
public enum LoraBias {
    NONE("none"),
    ALL("all"),
    LORA_ONLY("lora_only");

    private final String peftName;

    LoraBias(String peftName) {
        this.peftName = peftName;
    }

    /** The value PEFT writes in {@code adapter_config.json}. */
    public String peftName() {
        return peftName;
    }

    /** Parses PEFT's spelling; the error lists the valid values. */
    public static LoraBias fromPeft(String name) {
        for (LoraBias b : values()) {
            if (b.peftName.equals(name)) {
                return b;
            }
        }
        throw new org.peft4j.config.ConfigException("lora.bias = '" + name + "' is not one of none, all, lora_only");
    }
}
