package org.peft4j.embedding;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import org.peft4j.nn.Parameter;
import org.peft4j.train.StepHook;
import org.peft4j.train.TrainingException;
import org.peft4j.train.TrainingListener;

import java.util.List;

/**
 * Zeroes all gradients of a step in which any gradient is infinite or NaN, so that the step's update
 * carries no gradient (AdamW's moments only decay) instead of ending the run, as a loss scaler skips
 * an overflowing step. The sporadic infinite gradients with a finite loss that it was written for came
 * from numbers on the autograd graph held in collectable Java memory (see {@link org.peft4j.tensor.Scalars});
 * it stays as a guard, since losing one batch is better than losing the run. More than {@link #MAX_IN_A_ROW} such steps in a row mean training itself is
 * diverging, and end the run as the trainer would.
 */
public final class NonFiniteGradientSkip implements StepHook {

    static final int MAX_IN_A_ROW = 3;

    private final List<Parameter> parameters;
    private final TrainingListener listener;
    private int skipped;
    private int inARow;

    public NonFiniteGradientSkip(List<Parameter> parameters, TrainingListener listener) {
        this.parameters = parameters;
        this.listener = listener;
    }

    @Override
    public void afterBackward(int step) {
        boolean finite;
        try (NDScope scope = new NDScope()) {
            NDArray bad = null;
            for (Parameter p : parameters) {
                NDArray g = p.value().getGradient();
                NDArray b = g.isInfinite().logicalOr(g.isNaN()).any();
                bad = bad == null ? b : bad.logicalOr(b);
            }
            // one host sync per step, not one per parameter
            finite = bad == null || !bad.getBoolean();
        }
        if (finite) {
            inARow = 0;
            return;
        }
        skipped++;
        inARow++;
        if (inARow > MAX_IN_A_ROW) {
            throw new TrainingException("the gradients were non-finite in " + inARow + " steps in a row (up to step "
                    + step + "): training diverges. Lower the learning rate");
        }
        for (Parameter p : parameters) {
            // in place through the engine: multiplying by 0 would leave inf · 0 = NaN behind
            p.zeroGrad();
        }
        listener.onPhase("step " + step + ": a gradient was non-finite with a finite loss; its gradients were zeroed ("
                + skipped + " such step" + (skipped == 1 ? "" : "s") + " so far)");
    }

    /** Steps whose gradients were zeroed. */
    public int skipped() {
        return skipped;
    }
}
