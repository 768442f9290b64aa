package org.peft4j.peft.adalora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import org.peft4j.nn.Parameter;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Importance-driven pruning of triplets across all adapted matrices (Section 3.2).
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
 * <p>At a masking step the b(t) triplets with the highest S over all matrices stay, the rest are
 * zeroed (Eq. 13). Ties at the threshold are broken by position: the triplet of the earlier
 * adapted module (injection order), then the lower triplet index, stays. Pruning is final: a pruned
 * triplet is never re-admitted (its λ stays zero). PEFT recomputes the mask from all triplets at
 * each allocation and lets a zeroed λ be trained again in between; since b(t) never grows, keeping
 * the pruned ones out does not change how many triplets survive.
 *
 * <p>All of this is NDArray work; the EMA state lives outside any step scope.
 */
public final class RankAllocator {

    private final Map<String, SvdLinear> layers;
    private final BudgetSchedule schedule;
    private final double beta1;
    private final double beta2;
    /** Per parameter path ({@code <module>.lora_A|lora_E|lora_B}): Ī and Ū. */
    private final Map<String, NDArray> sensitivity = new LinkedHashMap<>();
    private final Map<String, NDArray> uncertainty = new LinkedHashMap<>();
    private int updates;
    private int lastUpdatedStep = Integer.MIN_VALUE;

    public RankAllocator(Map<String, SvdLinear> layers, AdaLoraConfig config, BudgetSchedule schedule) {
        this.layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
        this.schedule = schedule;
        this.beta1 = config.beta1();
        this.beta2 = config.beta2();
        this.layers.forEach((path, layer) -> layer.adapterParameters().forEach((name, p) -> {
            NDArray w = p.value();
            NDArray ibar = w.getManager().zeros(w.getShape(), w.getDataType());
            NDArray ubar = w.getManager().zeros(w.getShape(), w.getDataType());
            // the EMA state outlives every step scope
            NDScope.unregister(ibar, ubar);
            sensitivity.put(path + "." + name, ibar);
            uncertainty.put(path + "." + name, ubar);
        }));
    }

    public BudgetSchedule schedule() {
        return schedule;
    }

    /**
     * Updates Ī and Ū (Eq. 8–10) from the accumulated gradients of optimizer step {@code step}.
     * Call once per optimizer step, after the last backward pass and before gradients are zeroed;
     * after the last masking step (T − tfinal) the scores are no longer needed and this does nothing.
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
        NDList parts = new NDList();
        layers.forEach((path, layer) -> {
            if (layer.rank() > 0) {
                parts.add(layerScores(path, layer));
            }
        });
        return parts.size() == 1 ? parts.singletonOrThrow() : NDArrays.concat(parts);
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

    /** Applies the budget if step {@code step} is a masking step; returns whether it did. */
    public boolean maskIfDue(int step) {
        if (!schedule.maskDue(step)) {
            return false;
        }
        maskTo(schedule.budget(step));
        return true;
    }

    /**
     * Keeps the {@code budget} best unpruned triplets over all layers and prunes the rest (Eq. 13).
     * If fewer than {@code budget} are unpruned, all of them stay.
     */
    public void maskTo(int budget) {
        try (NDScope scope = new NDScope()) {
            NDArray scores = tripletScores();
            NDArray alive = aliveMask();
            long n = scores.getShape().get(0);
            // pruned triplets rank below every live one (scores are ≥ 0)
            NDArray ranked = NDArrays.where(alive, scores, scores.getManager().full(scores.getShape(), -1f));
            NDArray keep;
            if (budget <= 0) {
                keep = alive.logicalNot().logicalAnd(alive);
            } else if (budget >= n) {
                keep = alive;
            } else {
                float threshold = ranked.sort().getFloat(n - budget);
                NDArray above = ranked.gt(threshold).logicalAnd(alive);
                NDArray tied = ranked.eq(threshold).logicalAnd(alive);
                long missing = budget - above.toType(DataType.INT64, false).sum().getLong();
                // the first `missing` tied triplets in layer order stay: deterministic whatever the sort does
                NDArray firstTied = tied.toType(DataType.INT64, false).cumSum().lte(missing).logicalAnd(tied);
                keep = above.logicalOr(firstTied);
            }
            int offset = 0;
            for (SvdLinear layer : layers.values()) {
                if (layer.rank() == 0) {
                    continue;
                }
                layer.setMask(keep.get(new NDIndex(offset + ":" + (offset + layer.rank()))));
                offset += layer.rank();
            }
        }
    }

    private NDArray aliveMask() {
        NDList parts = new NDList();
        layers.values().forEach(l -> {
            if (l.rank() > 0) {
                parts.add(l.mask().reshape(l.rank()).gt(0f));
            }
        });
        return parts.size() == 1 ? parts.singletonOrThrow() : NDArrays.concat(parts);
    }

    /** Unpruned triplets over all layers. */
    public int activeTriplets() {
        return layers.values().stream().mapToInt(SvdLinear::activeRank).sum();
    }

    /** Re-zeroes pruned λ in every layer (an optimizer step may have moved them). */
    public void applyMasks() {
        try (NDScope scope = new NDScope()) {
            layers.values().forEach(SvdLinear::applyMask);
        }
    }

    /** The adapter parameters the allocator scores, in layer order. */
    public List<Parameter> scoredParameters() {
        List<Parameter> out = new ArrayList<>();
        layers.values().forEach(l -> out.addAll(l.adapterParameters().values()));
        return out;
    }
}
