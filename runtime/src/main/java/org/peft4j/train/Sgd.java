package org.peft4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import org.peft4j.nn.Parameter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** SGD with heavy-ball momentum and L2 weight decay, as torch.optim.SGD: b ← μ b + (g + λθ); θ ← θ − lr·b. */
public final class Sgd implements Optimizer {

    private final List<Parameter> parameters;
    private final List<NDArray> buffers = new ArrayList<>();
    private final double momentum;
    private final double weightDecay;
    private int steps;

    public Sgd(List<Parameter> parameters, double momentum, double weightDecay) {
        this.parameters = List.copyOf(parameters);
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        for (Parameter p : this.parameters) {
            NDArray b = p.value().zerosLike();
            NDScope.unregister(b);
            buffers.add(b);
        }
    }

    @Override
    public void step(double lr) {
        steps++;
        try (NDScope scope = new NDScope()) {
            for (int i = 0; i < parameters.size(); i++) {
                NDArray w = parameters.get(i).value();
                NDArray g = w.getGradient();
                if (weightDecay != 0) {
                    g = g.add(w.mul((float) weightDecay));
                }
                NDArray update = g;
                if (momentum != 0) {
                    update = buffers.get(i).muli((float) momentum).addi(g);
                }
                w.subi(update.mul((float) lr));
            }
        }
    }

    @Override
    public void close() {
        buffers.forEach(NDArray::close);
    }

    @Override
    public int steps() {
        return steps;
    }

    @Override
    public Map<String, NDArray> state() {
        return Optimizer.indexed("momentum", buffers);
    }

    @Override
    public void loadState(Map<String, NDArray> saved, int steps) {
        Optimizer.copyInto(state(), saved);
        this.steps = steps;
    }

    @Override
    public List<Parameter> parameters() {
        return parameters;
    }
}
