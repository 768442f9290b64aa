package org.peft4j.train;

import ai.djl.ndarray.NDArray;

import java.util.Map;

/**
 * What a {@link StepHook} carries from one optimizer step to the next (running scores, masks,
 * counters), so that a checkpoint holds it and a resumed run continues exactly. A checkpoint stores
 * the arrays bit for bit in {@code hook.safetensors} and the counters in {@code state.json}.
 *
 * @param arrays   named arrays; the hook's live ones when saving, the checkpoint's when restoring
 * @param counters named whole numbers
 */
public record HookState(Map<String, NDArray> arrays, Map<String, Long> counters) {

    /** The state of a hook that keeps none. */
    public static final HookState NONE = new HookState(Map.of(), Map.of());

    public HookState {
        arrays = Map.copyOf(arrays);
        counters = Map.copyOf(counters);
    }

    public boolean isEmpty() {
        return arrays.isEmpty() && counters.isEmpty();
    }
}
