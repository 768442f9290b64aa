package org.peft4j.run;

import ai.djl.ndarray.types.DataType;
import org.peft4j.nn.Module;
import org.peft4j.tensor.Backend;
import org.peft4j.train.TrainingListener;

/**
 * A run's {@code dtype}: with float16 the frozen base weights are stored and computed in half
 * precision (half their memory, and tensor-core speed on a GPU), while everything that trains
 * (adapters, a new head, {@code modulesToSave}, trained biases) stays float32, as PEFT keeps
 * adapters in float32 over a half-precision base ({@code autocast_adapter_dtype}). Layers cast their
 * input to their weight's dtype; softmax over a causal mask, pooled sums and losses run in float32.
 *
 * <p>There is no loss scaling: activation gradients flow through the frozen layers in half
 * precision, so gradients below about 6e-8 flush to zero. Full fine-tuning is refused with float16
 * (see {@link #problem}); it would need float32 master weights.
 */
public final class HalfPrecision {

    private HalfPrecision() {
    }

    /** The problem with this dtype for a run that trains every weight, or null. */
    public static String problem(String dtype, boolean fullFineTuning) {
        if (fullFineTuning && isHalf(dtype)) {
            return "dtype '" + dtype + "' keeps frozen weights in half precision, but full fine-tuning freezes"
                    + " none (AdamW steps on half-precision weights round away); use dtype 'float32', or train an"
                    + " adapter (lora { ... } or adalora { ... })";
        }
        return null;
    }

    /** Whether a dtype name means float16. */
    public static boolean isHalf(String dtype) {
        return Backend.dtypeNamed(dtype) == DataType.FLOAT16;
    }

    /**
     * Casts the model's frozen parameters to the backend's dtype, once adapters are in place and
     * trainability is settled; a float32 backend leaves the model as it is.
     */
    public static void apply(Backend backend, Module model, TrainingListener listener) {
        if (backend.dtype() == DataType.FLOAT32) {
            return;
        }
        int n = model.castFrozen(backend.dtype());
        String note = backend.device().isGpu() ? ""
                : "; note: on the CPU libtorch's half-precision matrix products run far below float32's speed"
                        + " (about 2 against 160 GFLOP/s measured on a 2-core machine), so float16 is for GPUs";
        listener.onPhase(n + " frozen tensors stored as " + backend.dtype() + ", trainable ones as float32" + note);
    }
}
