package org.peft4j.peft.adalora;

/** Which orthogonality penalty R(P, Q) is added to the loss (weighted by γ). */
public enum OrthRegKind {
    /** The paper's Eq. 4: Σ over adapted matrices of ‖PᵀP − I‖²_F + ‖QQᵀ − I‖²_F (squared, summed). */
    PAPER,
    /**
     * Hugging Face PEFT's {@code AdaLoraModel.forward}: the plain (non-squared) Frobenius norms
     * ‖AAᵀ − I‖_F and ‖BᵀB − I‖_F, averaged over all 2n factor matrices.
     */
    PEFT
}
