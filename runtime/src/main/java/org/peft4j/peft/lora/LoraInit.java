package org.peft4j.peft.lora;

/**
 * How A and B start. B = 0 for the first two, so the model is unchanged at step 0; PiSSA instead
 * moves the top-r singular part of W into the adapter and leaves the rest in the base weight.
 */
public enum LoraInit {
    /** A ~ kaiming_uniform(a = √5) as nn.Linear, B = 0; PEFT's {@code init_lora_weights = true}. */
    KAIMING_UNIFORM,
    /** A ~ N(0, σ = 1/r), B = 0; PEFT's {@code "gaussian"} (which uses std 1/r, not variance 1/r). */
    GAUSSIAN,
    /** PiSSA (Meng et al. 2024, Eq. 2–3): A, B from the top-r SVD of W; W ← W − s·B A. PEFT's {@code "pissa"}. */
    PISSA
}
