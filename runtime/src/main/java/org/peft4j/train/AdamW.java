package org.peft4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import org.peft4j.nn.Parameter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam with decoupled weight decay (Loshchilov &amp; Hutter 2019, Algorithm 2):
 * m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  θ ← θ − lr·λ·θ − lr · m̂ / (√v̂ + ε),
 * with bias corrections m̂ = m / (1−β1ᵗ), v̂ = v / (1−β2ᵗ). Every update is in place.
 */
public final class AdamW implements Optimizer {

    private final List<Parameter> parameters;
    private final List<NDArray> m = new ArrayList<>();
    private final List<NDArray> v = new ArrayList<>();
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private int t;

    public AdamW(List<Parameter> parameters, double beta1, double beta2, double eps, double weightDecay) {
        this.parameters = List.copyOf(parameters);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        for (Parameter p : this.parameters) {
            NDArray w = p.value();
            NDArray mi = w.getManager().zeros(w.getShape(), w.getDataType());
            NDArray vi = w.getManager().zeros(w.getShape(), w.getDataType());
            // moments live as long as the optimizer, whatever scope creates it
            NDScope.unregister(mi, vi);
            m.add(mi);
            v.add(vi);
        }
    }

    @Override
    public void step(double lr) {
        t++;
        double c1 = 1 - Math.pow(beta1, t);
        double c2 = 1 - Math.pow(beta2, t);
        // lr/c1 and √c2 folded into scalars: θ −= (lr/c1) · m / (√v / √c2 + ε)
        float stepSize = (float) (lr / c1);
        float sqrtC2 = (float) Math.sqrt(c2);
        try (NDScope scope = new NDScope()) {
            for (int i = 0; i < parameters.size(); i++) {
                NDArray w = parameters.get(i).value();
                NDArray g = w.getGradient();
                m.get(i).muli((float) beta1).addi(g.mul((float) (1 - beta1)));
                v.get(i).muli((float) beta2).addi(g.square().muli((float) (1 - beta2)));
                if (weightDecay != 0) {
                    w.muli((float) (1 - lr * weightDecay));
                }
                NDArray denom = v.get(i).sqrt().divi(sqrtC2).addi((float) eps);
                w.subi(m.get(i).div(denom).muli(stepSize));
            }
        }
    }

    @Override
    public void close() {
        m.forEach(NDArray::close);
        v.forEach(NDArray::close);
    }

    @Override
    public List<Parameter> parameters() {
        return parameters;
    }

    @Override
    public int steps() {
        return t;
    }

    @Override
    public Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>(Optimizer.indexed("m", m));
        out.putAll(Optimizer.indexed("v", v));
        return out;
    }

    @Override
    public void loadState(Map<String, NDArray> saved, int steps) {
        Optimizer.copyInto(state(), saved);
        t = steps;
    }
}
