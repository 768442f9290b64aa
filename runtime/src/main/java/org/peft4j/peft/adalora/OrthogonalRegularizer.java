package org.peft4j.peft.adalora;

import org.peft4j.tensor.Scalars;
import ai.djl.ndarray.NDArray;

import java.util.Collection;

/**
 * The penalty that keeps P and Q close to orthogonal, so that P Λ Q stays an SVD and λ measures
 * a triplet's size. Built from NDArray ops so that gradients flow through it when it is computed
 * inside a gradient collector. The caller scales it by γ.
 *
 * <ul>
 *   <li>{@link OrthRegKind#PAPER}, Eq. 4: R = Σ_k ‖P_kᵀP_k − I‖²_F + ‖Q_kQ_kᵀ − I‖²_F. Its gradient
 *       is 4 P (PᵀP − I) for P and 4 (QQᵀ − I) Q for Q.</li>
 *   <li>{@link OrthRegKind#PEFT}: R = (1 / 2n) Σ_k (‖Q_kQ_kᵀ − I‖_F + ‖P_kᵀP_k − I‖_F), the
 *       non-squared norms averaged over the 2n factor matrices, as PEFT's {@code AdaLoraModel.forward}.</li>
 * </ul>
 * Pruned triplets stay in P and Q and are regularized too, as in the paper and PEFT.
 */
public final class OrthogonalRegularizer {

    private final OrthRegKind kind;

    public OrthogonalRegularizer(OrthRegKind kind) {
        this.kind = kind;
    }

    public OrthRegKind kind() {
        return kind;
    }

    /** R over these layers, a scalar; zero-rank layers contribute nothing; null when there is no factor at all. */
    public NDArray penalty(Collection<SvdLinear> layers) {
        NDArray sum = null;
        int matrices = 0;
        for (SvdLinear layer : layers) {
            if (layer.rank() == 0) {
                continue;
            }
            NDArray p = layer.loraB().value();
            NDArray q = layer.loraA().value();
            NDArray term = term(gramDeviation(p.transpose().matMul(p)))
                    .add(term(gramDeviation(q.matMul(q.transpose()))));
            sum = sum == null ? term : sum.add(term);
            matrices += 2;
        }
        if (sum != null && kind == OrthRegKind.PEFT) {
            sum = Scalars.div(sum, matrices);
        }
        return sum;
    }

    /** R for one P [out, r] and Q [r, in]. */
    public NDArray penalty(NDArray p, NDArray q) {
        NDArray r = term(gramDeviation(p.transpose().matMul(p))).add(term(gramDeviation(q.matMul(q.transpose()))));
        return kind == OrthRegKind.PEFT ? Scalars.div(r, 2) : r;
    }

    private static NDArray gramDeviation(NDArray gram) {
        long n = gram.getShape().get(0);
        return gram.sub(gram.getManager().eye((int) n));
    }

    private NDArray term(NDArray deviation) {
        NDArray squared = deviation.square().sum();
        return kind == OrthRegKind.PAPER ? squared : squared.sqrt();
    }
}
