package org.peft4j.tensor;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * The tensor engine as the rest of peft4j sees it: the long-lived manager that owns parameters and
 * optimizer state, the device and dtype, the random seed, threads, grad mode and backward. Only
 * {@code org.peft4j.tensor} talks to an engine; everything above calls this interface and
 * {@link Functional}, so a second engine plugs in here and nowhere else.
 */
public interface Backend {

    /** The running backend, started with default settings (CPU, float32, all cores) on first use. */
    static Backend get() {
        return DjlBackend.current();
    }

    /**
     * Starts the engine with these settings. A second call with another device or dtype replaces
     * the settings; a thread count given here replaces the current one.
     */
    static Backend start(BackendConfig config) {
        return DjlBackend.start(config);
    }

    /** The dtype a recipe's name means (float32, fp32, f32, float16, fp16, f16; null is float32), or null for any other name. */
    static DataType dtypeNamed(String name) {
        String n = name == null ? "float32" : name.trim().toLowerCase();
        switch (n) {
            case "float32": case "fp32": case "f32":
                return DataType.FLOAT32;
            case "float16": case "fp16": case "f16":
                return DataType.FLOAT16;
            default:
                return null;
        }
    }

    Device device();

    /** The precision of the large matrix products (see {@link ComputePrecision}). */
    default ComputePrecision computePrecision() {
        return ComputePrecision.current();
    }

    /** The dtype frozen weights are kept in (trainable ones are always float32). */
    DataType dtype();

    /** The long-lived manager that owns parameters and optimizer state. */
    NDManager manager();

    /** Seeds the engine's generator (dropout, random init). */
    void seed(long seed);

    /** Intra-op threads. */
    int threads();

    /** The engine's name and version, for run manifests ("PyTorch 2.7.1"). */
    String engineVersion();

    /** The binding's own version (DJL's), for run manifests. */
    String bindingVersion();

    /** One line for logs: engine, device, dtype, threads. */
    String describe();

    /** Whether ops record an autograd graph on this thread. */
    boolean gradMode();

    void setGradMode(boolean on);

    /**
     * Opens the recording of one forward and backward pass; gradients of trainable parameters
     * accumulate until {@link #zeroGradient} (the engine never zeroes them on its own).
     */
    GradientTape newGradientTape();

    /**
     * Back-propagates {@code grad} from {@code out} (a vector-Jacobian product); false when
     * {@code out} is on no graph, so nothing below it can receive a gradient.
     */
    boolean backward(NDArray out, NDArray grad);

    /** The gradient accumulated in a leaf that requires one, or null when none has reached it. */
    NDArray gradient(NDArray leaf);

    /** Zeroes a parameter's accumulated gradient in place. */
    void zeroGradient(NDArray parameter);
}
