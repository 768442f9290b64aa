package org.peft4j.peft.adalora;

import org.peft4j.tensor.Scalars;
import ai.djl.ndarray.NDArray;

/**
 * What a training loop calls to train AdaLoRA (Algorithm 1 of the paper), per optimizer step t
 * (1-based, the step being taken):
 * <ol>
 *   <li>each micro-batch: backward on loss + {@link #extraLoss()} (γ·R, Eq. 5), scaled like the loss;</li>
 *   <li>after the last backward of the step, before clipping and the optimizer step:
 *       {@link #afterBackward(int)} — the importance (Eq. 8–10) from the step's accumulated
 *       gradients, with the parameters as they were when those gradients were computed;</li>
 *   <li>after the optimizer step, before gradients are zeroed:
 *       {@link #afterOptimizerStep(int)} — Eq. 13 on the updated Λ: prune to b(t) if t is a
 *       masking step, and keep pruned λ at zero.</li>
 * </ol>
 * PEFT's {@code update_and_allocate} does both of the last two after {@code optimizer.step()},
 * so its sensitivity multiplies the updated weights by the previous gradients.
 */
public final class AdaLoraHook {

    private final AdaLoraModel model;
    private final RankAllocator allocator;
    private final double gamma;

    AdaLoraHook(AdaLoraModel model, RankAllocator allocator) {
        this.model = model;
        this.allocator = allocator;
        this.gamma = model.config().orthReg();
    }

    /** γ · R(P, Q), to add to each micro-batch's loss inside the gradient collector; null when γ = 0. */
    public NDArray extraLoss() {
        if (gamma == 0) {
            return null;
        }
        NDArray r = model.orthogonalPenalty();
        return r == null ? null : Scalars.mul(r, gamma);
    }

    /** Updates the importance state once for optimizer step {@code optimizerStep}. */
    public void afterBackward(int optimizerStep) {
        allocator.update(optimizerStep);
    }

    /** Prunes to b(t) if due, then keeps every pruned λ at zero. Returns whether it pruned. */
    public boolean afterOptimizerStep(int optimizerStep) {
        boolean masked = allocator.maskIfDue(optimizerStep);
        if (!masked) {
            allocator.applyMasks();
        }
        return masked;
    }

    public RankAllocator allocator() {
        return allocator;
    }
}
