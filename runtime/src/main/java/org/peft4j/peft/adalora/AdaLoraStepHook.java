package org.peft4j.peft.adalora;

import ai.djl.ndarray.NDArray;
import org.peft4j.train.HookState;
import org.peft4j.train.StepHook;

/**
 * AdaLoRA's per-step work (regularizer, importance, allocation) as the training loop's step hook,
 * and its allocator state as the hook state that checkpoints hold.
 */
public final class AdaLoraStepHook implements StepHook {

    private final AdaLoraHook hook;

    public AdaLoraStepHook(AdaLoraHook hook) {
        this.hook = hook;
    }

    public AdaLoraHook adalora() {
        return hook;
    }

    @Override
    public NDArray extraLoss() {
        return hook.extraLoss();
    }

    @Override
    public void afterBackward(int step) {
        hook.afterBackward(step);
    }

    @Override
    public void afterOptimizerStep(int step) {
        hook.afterOptimizerStep(step);
    }

    @Override
    public HookState state() {
        AllocatorState a = hook.state();
        return new HookState(a.arrays(), a.counters());
    }

    @Override
    public void restore(HookState saved) {
        hook.restore(new AllocatorState(saved.arrays(), saved.counters()));
    }
}
