package org.peft4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import org.peft4j.nn.Parameter;

import java.util.List;

/** Global-norm clipping as torch.nn.utils.clip_grad_norm_: scale all gradients by min(1, max / ‖g‖₂). */
public final class GradientClipping {

    private GradientClipping() {
    }

    /** Clips in place and returns the global norm before clipping. */
    public static double clip(List<Parameter> parameters, double maxNorm) {
        try (NDScope scope = new NDScope()) {
            NDArray total = null;
            for (Parameter p : parameters) {
                NDArray sq = p.value().getGradient().square().sum();
                total = total == null ? sq : total.addi(sq);
            }
            if (total == null) {
                return 0;
            }
            // one host sync per step for the norm; the scaling itself stays native
            double norm = Math.sqrt(total.getFloat());
            if (maxNorm > 0 && norm > maxNorm) {
                float scale = (float) (maxNorm / (norm + 1e-6));
                for (Parameter p : parameters) {
                    p.value().getGradient().muli(scale);
                }
            }
            return norm;
        }
    }
}
