package org.peft4j.peft;

/** The adapter methods peft4j runs, under the names PEFT writes in {@code adapter_config.json}'s {@code peft_type}. */
public enum PeftType {
    /** Low-rank adaptation (Hu et al. 2021). */
    LORA,
    /** Adaptive budget allocation over SVD-form updates (Zhang et al. 2023). */
    ADALORA;

    /** The {@code peft_type} value of an adapter file. */
    public String peftName() {
        return name();
    }
}
