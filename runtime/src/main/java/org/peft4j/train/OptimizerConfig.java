package org.peft4j.train;

import java.util.ArrayList;
import java.util.List;

/**
 * Optimizer settings.
 *
 * @param kind        the algorithm
 * @param lr          peak learning rate
 * @param weightDecay decoupled weight decay (AdamW, Loshchilov &amp; Hutter 2019); for SGD, L2 added to the gradient
 * @param beta1       AdamW first-moment decay
 * @param beta2       AdamW second-moment decay
 * @param eps         AdamW denominator epsilon
 * @param momentum    SGD momentum
 */
public record OptimizerConfig(Kind kind, double lr, double weightDecay, double beta1, double beta2, double eps,
                              double momentum) {

    public enum Kind { ADAMW, SGD }

    public static OptimizerConfig adamW(double lr, double weightDecay) {
        return new OptimizerConfig(Kind.ADAMW, lr, weightDecay, 0.9, 0.999, 1e-8, 0);
    }

    public static OptimizerConfig sgd(double lr, double momentum) {
        return new OptimizerConfig(Kind.SGD, lr, 0, 0, 0, 0, momentum);
    }

    public List<String> validate() {
        List<String> p = new ArrayList<>();
        if (!(lr > 0 && lr < 1)) {
            p.add("optimizer.lr = " + lr + " must be in (0, 1); LoRA usually trains well at 1e-4 … 1e-3");
        }
        if (!(weightDecay >= 0)) {
            p.add("optimizer.weightDecay = " + weightDecay + " must be >= 0");
        }
        if (kind == Kind.ADAMW) {
            if (!(beta1 >= 0 && beta1 < 1)) {
                p.add("optimizer.beta1 = " + beta1 + " must be in [0, 1)");
            }
            if (!(beta2 >= 0 && beta2 < 1)) {
                p.add("optimizer.beta2 = " + beta2 + " must be in [0, 1)");
            }
            if (!(eps > 0)) {
                p.add("optimizer.eps = " + eps + " must be > 0");
            }
        }
        if (kind == Kind.SGD && !(momentum >= 0 && momentum < 1)) {
            p.add("optimizer.momentum = " + momentum + " must be in [0, 1)");
        }
        return p;
    }
}
