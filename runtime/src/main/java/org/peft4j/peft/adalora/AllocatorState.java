package org.peft4j.peft.adalora;

import ai.djl.ndarray.NDArray;

import java.util.Map;

/**
 * What the rank allocator carries from step to step (EMA scores, masks, counters), by name, so that
 * a checkpoint can hold it and a resumed run continues with the same scores and mask.
 *
 * @param arrays   named arrays (live views when exported; copied into the live ones on restore)
 * @param counters named whole numbers
 */
public record AllocatorState(Map<String, NDArray> arrays, Map<String, Long> counters) {

    public AllocatorState {
        arrays = Map.copyOf(arrays);
        counters = Map.copyOf(counters);
    }
}
