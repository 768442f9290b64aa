package org.peft4j.peft.adalora;

import org.peft4j.tensor.Scalars;
import ai.djl.ndarray.NDArray;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a training loop calls to train AdaLoRA (Algorithm 1 of the paper), per optimizer step t
 * (1-based, the step being taken):
 * <ol>
 *   <li>each micro-batch: backward on loss + {@link #extraLoss()} (γ·R, Eq. 5), scaled like the loss;</li>
 *   <li>after the last backward of the step, before clipping and the optimizer step:
 *       {@link #afterBackward(int)} — the importance (Eq. 8–10) from the step's accumulated
 *       gradients, with the parameters as they were when those gradients were computed;</li>
 *   <li>after the optimizer step, before gradients are zeroed:
 *       {@link #afterOptimizerStep(int)} — Eq. 13 on the updated Λ: keep the b(t) best triplets if
 *       t is an allocation step, and keep the pruned λ at zero once the mask is fixed.</li>
 * </ol>
 * PEFT's {@code update_and_allocate} does both of the last two after {@code optimizer.step()},
 * so its sensitivity multiplies the updated weights by the previous gradients.
 *
 * <p>The hook records the budget and the triplets kept after every step ({@link #report()}); with
 * the allocator's scores and masks, that trace is part of {@link #state()}, which a checkpoint holds
 * so that a resumed run allocates exactly as an uninterrupted one.
 */
public final class AdaLoraHook {

    private static final String TRACE = "trace";

    private final AdaLoraModel model;
    private final RankAllocator allocator;
    private final double gamma;
    private final double lambdaLrRatio;
    private final AllocationReport report = new AllocationReport();
    /** Λ of each layer before this step's optimizer update, while λ has a learning rate of its own. */
    private List<NDArray> lambdaBefore;

    AdaLoraHook(AdaLoraModel model, RankAllocator allocator) {
        this.model = model;
        this.allocator = allocator;
        this.gamma = model.config().orthReg();
        this.lambdaLrRatio = model.config().lambdaLrRatio();
    }

    /** γ · R(P, Q), to add to each micro-batch's loss inside the gradient collector; null when γ = 0. */
    public NDArray extraLoss() {
        if (gamma == 0) {
            return null;
        }
        NDArray r = model.orthogonalPenalty();
        return r == null ? null : Scalars.mul(r, gamma);
    }

    /**
     * Updates the importance state once for optimizer step {@code optimizerStep}, and keeps Λ as it
     * is before the update when λ has a learning rate of its own. Call inside the step's scope.
     */
    public void afterBackward(int optimizerStep) {
        allocator.update(optimizerStep);
        lambdaBefore = null;
        if (lambdaLrRatio != 1) {
            lambdaBefore = new ArrayList<>();
            model.layers().values().forEach(l -> lambdaBefore.add(l.loraE().value().duplicate()));
        }
    }

    /**
     * Gives λ its own learning rate, then allocates the budget if due (or keeps the fixed mask), then
     * records the step. Returns whether it allocated.
     */
    public boolean afterOptimizerStep(int optimizerStep) {
        scaleLambdaUpdate();
        boolean allocated = allocator.allocate(optimizerStep);
        report.record(optimizerStep, allocator.schedule().budget(optimizerStep), allocator.activeTriplets(),
                allocator.lastReturned());
        return allocated;
    }

    /**
     * λ ← λ_before + ratio · (λ − λ_before): the optimizer's update of Λ, weight decay included,
     * taken {@code lambdaLrRatio} times. The optimizer's moments do not depend on its learning rate,
     * so this is exactly a parameter group for Λ with the learning rate ratio·lr (AdamW and SGD alike).
     */
    private void scaleLambdaUpdate() {
        if (lambdaBefore == null) {
            return;
        }
        int i = 0;
        for (SvdLinear l : model.layers().values()) {
            NDArray before = lambdaBefore.get(i++);
            NDArray lambda = l.loraE().value();
            lambda.muli((float) lambdaLrRatio).addi(before.muli((float) (1 - lambdaLrRatio)));
        }
        lambdaBefore = null;
    }

    public RankAllocator allocator() {
        return allocator;
    }

    /** The budget trace so far and, at the end, where the budget went. */
    public AllocationReport report() {
        return report;
    }

    /**
     * The allocator's state plus the budget trace ({@code trace}, [steps, 4]). The allocator's arrays
     * are live views; the trace is a new array of the caller's scope.
     */
    public AllocatorState state() {
        AllocatorState a = allocator.state();
        Map<String, NDArray> arrays = new LinkedHashMap<>(a.arrays());
        arrays.put(TRACE, report.toArray(model.layers().values().iterator().next().loraE().value().getManager()));
        return new AllocatorState(arrays, a.counters());
    }

    /** Puts back what {@link #state()} gave: scores, masks, counters and the trace. */
    public void restore(AllocatorState saved) {
        NDArray trace = saved.arrays().get(TRACE);
        if (trace == null) {
            throw new IllegalArgumentException("the saved AdaLoRA state has no budget trace '" + TRACE + "'");
        }
        Map<String, NDArray> rest = new LinkedHashMap<>(saved.arrays());
        rest.remove(TRACE);
        allocator.restore(new AllocatorState(rest, saved.counters()));
        report.restore(trace);
    }
}
