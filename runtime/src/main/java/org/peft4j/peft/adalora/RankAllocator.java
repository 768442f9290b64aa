package org.peft4j.peft.adalora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Importance-driven allocation of triplets across all adapted matrices (Section 3.2).
 *
 * <p>Per entry w of P, Λ and Q, once per optimizer step (with the gradients of that step, summed
 * over its micro-batches):
 * <pre>
 *   I = |w ∘ ∇w|                       (Eq. 8, sensitivity)
 *   Ī ← β1 Ī + (1 − β1) I              (Eq. 9, smoothed sensitivity)
 *   Ū ← β2 Ū + (1 − β2) |I − Ī|        (Eq. 10, uncertainty, with the new Ī)
 *   s = Ī ∘ Ū                          (Eq. 11)
 * </pre>
 * and per triplet i of matrix k: S_i = s(λ_i) + mean_j s(P_ji) + mean_j s(Q_ij) (Eq. 11).
 *
 * <p>At an allocation step the b(t) triplets with the highest S among <em>all</em> triplets keep
 * their λ and the others' λ are set to zero (Eq. 13). Between two allocations every λ, P and Q
 * trains, a zeroed λ included, so a triplet pruned at one allocation is back at a later one when its
 * score has risen above the b(t)-th. The last allocation, at T − tfinal, fixes the mask: from then on
 * the pruned λ are set to zero again after every optimizer step. This is PEFT's
 * {@code RankAllocator.mask_to_budget}/{@code mask_using_rank_pattern}, with one difference: PEFT
 * zeroes every triplet whose score is at most the (n − b)-th smallest, so ties at the threshold can
 * leave fewer than b(t); here ties are broken by position (the earlier adapted module, then the
 * lower triplet index, stays) so that exactly b(t) stay.
 *
 * <p>All of this is NDArray work; the EMA state lives outside any step scope and can be exported
 * into a checkpoint and restored from it ({@link #state()}, {@link #restore}).
 */
public final class RankAllocator {

    private final Map<String, SvdLinear> layers;
    private final BudgetSchedule schedule;
    private final double beta1;
    private final double beta2;
    /** Per parameter path ({@code <module>.lora_A|lora_E|lora_B}): Ī and Ū. */
    private final Map<String, NDArray> sensitivity = new LinkedHashMap<>();
    private final Map<String, NDArray> uncertainty = new LinkedHashMap<>();
    /** Per layer: how often each triplet came back after being pruned, [r]. */
    private final Map<String, NDArray> returns = new LinkedHashMap<>();
    private int updates;
    private int lastUpdatedStep;
    private int lastReturned;

    public RankAllocator(Map<String, SvdLinear> layers, AdaLoraConfig config, BudgetSchedule schedule) {
        this.layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
        this.schedule = schedule;
        this.beta1 = config.beta1();
        this.beta2 = config.beta2();
        this.layers.forEach((path, layer) -> {
            layer.adapterParameters().forEach((name, p) -> {
                sensitivity.put(path + "." + name, lasting(p.value()));
                uncertainty.put(path + "." + name, lasting(p.value()));
            });
            returns.put(path, lasting(layer.mask()));
        });
    }

    /** A zero array shaped like {@code like} that outlives every step scope. */
    private static NDArray lasting(NDArray like) {
        NDArray a = like.getManager().zeros(like.getShape(), DataType.FLOAT32);
        NDScope.unregister(a);
        return a;
    }

    public BudgetSchedule schedule() {
        return schedule;
    }

    /**
     * Updates Ī and Ū (Eq. 8–10) from the accumulated gradients of optimizer step {@code step}.
     * Call once per optimizer step, after the last backward pass and before gradients are zeroed;
     * after the last allocation (T − tfinal) the scores are no longer needed and this does nothing.
     *
     * @return whether the state was updated
     */
    public boolean update(int step) {
        if (!schedule.scoring(step)) {
            return false;
        }
        if (step == lastUpdatedStep) {
            throw new IllegalStateException("importance already updated for optimizer step " + step
                    + "; update once per optimizer step, not once per micro-batch");
        }
        try (NDScope scope = new NDScope()) {
            layers.forEach((path, layer) -> layer.adapterParameters().forEach((name, p) -> {
                String key = path + "." + name;
                NDArray w = p.value();
                NDArray sens = w.mul(w.getGradient()).abs();
                NDArray ibar = sensitivity.get(key);
                ibar.muli((float) beta1).addi(sens.mul((float) (1 - beta1)));
                uncertainty.get(key).muli((float) beta2).addi(sens.sub(ibar).abs().muli((float) (1 - beta2)));
            }));
        }
        lastUpdatedStep = step;
        updates++;
        return true;
    }

    /** How many times the importance state was updated. */
    public int updates() {
        return updates;
    }

    /** Ī of one adapter parameter ({@code fc1.lora_A}); a live view, do not close. */
    public NDArray smoothedSensitivity(String parameterPath) {
        return state(sensitivity, parameterPath);
    }

    /** Ū of one adapter parameter; a live view, do not close. */
    public NDArray uncertainty(String parameterPath) {
        return state(uncertainty, parameterPath);
    }

    private static NDArray state(Map<String, NDArray> m, String key) {
        NDArray a = m.get(key);
        if (a == null) {
            throw new IllegalArgumentException("no adapter parameter '" + key + "'; known: " + m.keySet());
        }
        return a;
    }

    /** S for every triplet of every layer, concatenated in layer order, [Σ r_k]. */
    public NDArray tripletScores() {
        return concat(layerArrays(this::layerScores));
    }

    private NDArray layerScores(String path, SvdLinear layer) {
        NDArray sE = score(path + ".lora_E").reshape(layer.rank());
        NDArray sQ = score(path + ".lora_A").mean(new int[] {1});
        NDArray sP = score(path + ".lora_B").mean(new int[] {0});
        return sE.add(sQ).add(sP);
    }

    private NDArray score(String key) {
        return sensitivity.get(key).mul(uncertainty.get(key));
    }

    /**
     * The allocation due after optimizer step {@code step} (Eq. 13): re-chooses the b(t) triplets
     * at an allocation step, and after the last one keeps the fixed mask's λ at zero. Between
     * allocations of the budgeting phase it leaves every λ as the optimizer left it.
     *
     * @return whether the mask was recomputed
     */
    public boolean allocate(int step) {
        if (schedule.maskDue(step)) {
            maskTo(schedule.budget(step));
            return true;
        }
        lastReturned = 0;
        if (schedule.maskFixed(step)) {
            applyMasks();
        }
        return false;
    }

    /**
     * Keeps the {@code budget} best triplets over all layers, pruned ones included, and zeroes the
     * λ of the rest (Eq. 13). Triplets pruned before and kept now are counted as returned.
     */
    public void maskTo(int budget) {
        try (NDScope scope = new NDScope()) {
            NDArray scores = tripletScores();
            NDArray before = concat(layerArrays((path, l) -> l.mask().reshape(l.rank()).gt(0f)));
            long n = scores.getShape().get(0);
            NDArray keep;
            if (budget <= 0) {
                keep = before.logicalNot().logicalAnd(before);
            } else if (budget >= n) {
                keep = before.logicalOr(before.logicalNot());
            } else {
                float threshold = scores.sort().getFloat(n - budget);
                NDArray above = scores.gt(threshold);
                NDArray tied = scores.eq(threshold);
                long missing = budget - above.toType(DataType.INT64, false).sum().getLong();
                // the first `missing` tied triplets in layer order stay: deterministic whatever the sort does
                NDArray firstTied = tied.toType(DataType.INT64, false).cumSum().lte(missing).logicalAnd(tied);
                keep = above.logicalOr(firstTied);
            }
            NDArray back = keep.logicalAnd(before.logicalNot());
            lastReturned = (int) back.toType(DataType.INT64, false).sum().getLong();
            int offset = 0;
            for (Map.Entry<String, SvdLinear> e : layers.entrySet()) {
                SvdLinear layer = e.getValue();
                if (layer.rank() == 0) {
                    continue;
                }
                NDIndex slice = new NDIndex(offset + ":" + (offset + layer.rank()));
                layer.setMask(keep.get(slice));
                returns.get(e.getKey()).addi(back.get(slice).toType(DataType.FLOAT32, false).reshape(layer.rank(), 1));
                offset += layer.rank();
            }
        }
    }

    /** Kept triplets over all layers, as of the latest allocation. */
    public int activeTriplets() {
        return layers.values().stream().mapToInt(SvdLinear::activeRank).sum();
    }

    /** Triplets that were pruned at an allocation and kept again at the one just made (0 if none was made). */
    public int lastReturned() {
        return lastReturned;
    }

    /** Per layer: how many times a triplet came back after being pruned, summed over its triplets. */
    public Map<String, Integer> returnsPerLayer() {
        Map<String, Integer> out = new LinkedHashMap<>();
        returns.forEach((path, r) -> {
            try (NDArray sum = r.sum()) {
                out.put(path, Math.round(sum.getFloat()));
            }
        });
        return out;
    }

    /** Distinct triplets that came back at least once after being pruned. */
    public int returnedTriplets() {
        int n = 0;
        for (NDArray r : returns.values()) {
            for (float f : r.toFloatArray()) {
                n += f > 0 ? 1 : 0;
            }
        }
        return n;
    }

    /** Re-zeroes pruned λ in every layer (an optimizer step may have moved them). */
    public void applyMasks() {
        try (NDScope scope = new NDScope()) {
            layers.values().forEach(SvdLinear::applyMask);
        }
    }

    /**
     * Everything the allocator carries from step to step, for a checkpoint: Ī ({@code ipt.<param>}),
     * Ū ({@code unc.<param>}), each layer's mask ({@code mask.<layer>}) and return counts
     * ({@code returns.<layer>}), and the counters. The arrays are the live ones; a writer copies them.
     */
    public AllocatorState state() {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        sensitivity.forEach((k, a) -> arrays.put("ipt." + k, a));
        uncertainty.forEach((k, a) -> arrays.put("unc." + k, a));
        layers.forEach((path, l) -> arrays.put("mask." + path, l.mask()));
        returns.forEach((path, a) -> arrays.put("returns." + path, a));
        Map<String, Long> counters = new LinkedHashMap<>();
        counters.put("updates", (long) updates);
        counters.put("last_updated_step", (long) lastUpdatedStep);
        counters.put("last_returned", (long) lastReturned);
        return new AllocatorState(arrays, counters);
    }

    /**
     * Puts back what {@link #state()} gave, copying values into the live arrays (a mask without
     * touching λ, whose saved value comes back with the weights). Refuses a state of other layers.
     */
    public void restore(AllocatorState saved) {
        AllocatorState live = state();
        if (!saved.arrays().keySet().equals(live.arrays().keySet())) {
            throw new IllegalArgumentException("the saved AdaLoRA allocator state holds " + saved.arrays().keySet()
                    + " but this model's allocator has " + live.arrays().keySet());
        }
        live.arrays().forEach((k, a) -> {
            NDArray s = saved.arrays().get(k);
            if (!s.getShape().equals(a.getShape())) {
                throw new IllegalArgumentException("saved AdaLoRA state '" + k + "' has shape " + s.getShape()
                        + " but this model's is " + a.getShape());
            }
        });
        live.arrays().forEach((k, a) -> {
            NDArray s = saved.arrays().get(k);
            if (k.startsWith("mask.")) {
                layers.get(k.substring("mask.".length())).restoreMask(s);
            } else {
                a.set(s.toType(DataType.FLOAT32, false).toByteBuffer());
            }
        });
        updates = counter(saved, "updates");
        lastUpdatedStep = counter(saved, "last_updated_step");
        lastReturned = counter(saved, "last_returned");
    }

    private static int counter(AllocatorState s, String name) {
        Long v = s.counters().get(name);
        if (v == null) {
            throw new IllegalArgumentException("the saved AdaLoRA allocator state has no '" + name + "'; it has "
                    + s.counters().keySet());
        }
        return Math.toIntExact(v);
    }

    private interface PerLayer {
        NDArray of(String path, SvdLinear layer);
    }

    private NDList layerArrays(PerLayer f) {
        NDList parts = new NDList();
        layers.forEach((path, layer) -> {
            if (layer.rank() > 0) {
                parts.add(f.of(path, layer));
            }
        });
        return parts;
    }

    private static NDArray concat(NDList parts) {
        return parts.size() == 1 ? parts.singletonOrThrow() : NDArrays.concat(parts);
    }
}
