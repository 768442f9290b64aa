package org.peft4j.tensor;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The one place where the PyTorch engine is started: offline native library, thread counts,
 * device and compute dtype. Everything that makes tensors asks {@link #get()} for the manager.
 */
public final class Backend {

    private static volatile Backend instance;

    private final Device device;
    private final DataType dtype;
    private final NDManager manager;

    private Backend(Device device, DataType dtype, NDManager manager) {
        this.device = device;
        this.dtype = dtype;
        this.manager = manager;
    }

    /** The backend with default settings (CPU, float32, all cores), started on first use. */
    public static Backend get() {
        Backend b = instance;
        if (b == null) {
            synchronized (Backend.class) {
                if (instance == null) {
                    instance = start(BackendConfig.defaults());
                }
                b = instance;
            }
        }
        return b;
    }

    /**
     * Starts the engine with these settings. A second call with another device or dtype replaces
     * the settings; a thread count given here replaces the current one.
     */
    public static synchronized Backend start(BackendConfig config) {
        // Nothing is downloaded at run time: libtorch comes from the pytorch-native-cpu jar.
        System.setProperty("ai.djl.offline", "true");
        if (config.threads() > 0) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(config.threads()));
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
        Engine engine = Engine.getEngine("PyTorch");
        if (config.threads() > 0 && JniUtils.getNumThreads() != config.threads()) {
            JniUtils.setNumThreads(config.threads());
        }
        Device device = resolveDevice(engine, config.device());
        DataType dtype = resolveDtype(config.dtype());
        if (instance != null && instance.device.equals(device) && instance.dtype == dtype) {
            return instance;
        }
        NDManager manager = engine.newBaseManager(device);
        instance = new Backend(device, dtype, manager);
        return instance;
    }

    private static Device resolveDevice(Engine engine, String name) {
        String n = name == null ? "auto" : name.trim().toLowerCase();
        switch (n) {
            case "cpu":
                return Device.cpu();
            case "auto":
                return engine.getGpuCount() > 0 ? Device.gpu() : Device.cpu();
            default:
                if (n.equals("cuda") || n.equals("gpu") || n.startsWith("cuda:") || n.startsWith("gpu:")) {
                    int index = n.contains(":") ? Integer.parseInt(n.substring(n.indexOf(':') + 1)) : 0;
                    if (engine.getGpuCount() <= index) {
                        throw new IllegalArgumentException("device '" + name + "' was asked for but the engine sees "
                                + engine.getGpuCount() + " GPU(s); use device 'cpu', or build with -Pcuda on a machine"
                                + " with CUDA so that DJL loads the CUDA libtorch");
                    }
                    return Device.gpu(index);
                }
                throw new IllegalArgumentException("unknown device '" + name + "'; valid: cpu, cuda, cuda:N, auto");
        }
    }

    /** The dtype a recipe's name means (float32, fp32, f32, float16, fp16, f16; null is float32), or null for any other name. */
    public static DataType dtypeNamed(String name) {
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

    private static DataType resolveDtype(String name) {
        DataType named = dtypeNamed(name);
        if (named != null) {
            return named;
        }
        switch (name.trim().toLowerCase()) {
            case "bfloat16": case "bf16":
                // DJL 0.36 + libtorch 2.7.1 ends the JVM on any bf16 array; refuse before that happens.
                throw new IllegalArgumentException("dtype 'bfloat16' is not supported by this engine build"
                        + " (it aborts the process); use dtype 'float32' (or 'float16' on a GPU)");
            default:
                throw new IllegalArgumentException("unknown dtype '" + name + "'; valid: float32, float16");
        }
    }

    public Device device() { return device; }

    public DataType dtype() { return dtype; }

    /** The long-lived manager that owns parameters and optimizer state. */
    public NDManager manager() { return manager; }

    /** Seeds libtorch's generator (dropout, random init). */
    public void seed(long seed) {
        JniUtils.setSeed(seed);
    }

    public int threads() { return JniUtils.getNumThreads(); }

    public String describe() {
        return "PyTorch " + Engine.getEngine("PyTorch").getVersion() + " on " + device + ", " + dtype
                + ", " + threads() + " threads";
    }
}
