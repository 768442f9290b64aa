package org.peft4j.peft.lora;

/**
 * How A and B start. B = 0 for the first two, so the model is unchanged at step 0; PiSSA and OLoRA
 * instead move a rank-r part of W into the adapter and leave the rest (the residual) in the base
 * weight. Loading an adapter file repeats these two on the base it is given, as PEFT does, so that
 * the residual base is rebuilt; every other init only decides starting values the file replaces.
 */
public enum LoraInit {
    /** A ~ kaiming_uniform(a = √5) as nn.Linear, B = 0; PEFT's {@code init_lora_weights = true}. */
    KAIMING_UNIFORM,
    /** A ~ N(0, σ = 1/r), B = 0; PEFT's {@code "gaussian"} (which uses std 1/r, not variance 1/r). */
    GAUSSIAN,
    /** PiSSA (Meng et al. 2024, Eq. 2–3): A, B from the top-r SVD of W; W ← W − s·B A. PEFT's {@code "pissa"}. */
    PISSA,
    /**
     * OLoRA (Büyükakyüz 2024, Eq. 4): W = Q R, B = Q_r, A = R_r (the first r columns of Q and rows
     * of R), then W ← W − s·B A. PEFT's {@code "olora"}; computed on the weight as stored, as PEFT
     * does.
     */
    OLORA;

    /** Whether the init changes the base weights, so that the adapter belongs to the residual base it leaves. */
    public boolean changesBase() {
        return this == PISSA || this == OLORA;
    }
}
