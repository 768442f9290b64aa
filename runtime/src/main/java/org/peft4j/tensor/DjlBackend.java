package org.peft4j.tensor;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

/**
 * {@link Backend} on DJL's PyTorch engine: the offline native library from the
 * {@code pytorch-native-cpu} jar (or a CUDA libtorch, see {@link #resolveDevice}), thread counts,
 * device and dtype.
 */
final class DjlBackend implements Backend {

    private static final System.Logger LOG = System.getLogger(DjlBackend.class.getName());

    private static volatile DjlBackend instance;
    /** Why the products' precision differs from the configured dtype, or null. */
    private static volatile String precisionNote;

    private final Device device;
    private final DataType dtype;
    private final NDManager manager;

    private DjlBackend(Device device, DataType dtype, NDManager manager) {
        this.device = device;
        this.dtype = dtype;
        this.manager = manager;
    }

    static DjlBackend current() {
        DjlBackend b = instance;
        if (b == null) {
            synchronized (DjlBackend.class) {
                if (instance == null) {
                    instance = start(BackendConfig.defaults());
                }
                b = instance;
            }
        }
        return b;
    }

    static synchronized DjlBackend start(BackendConfig config) {
        // Nothing is downloaded at run time: libtorch comes from the pytorch-native-cpu jar. A GPU build
        // (mvn -Pgpu) leaves that jar out; its launcher may pass -Dai.djl.offline=false so that DJL fetches
        // its CUDA libtorch once (docs/devices.md).
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
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
        ComputePrecision.use(resolvePrecision(config.dtype(), device));
        if (instance != null && instance.device.equals(device) && instance.dtype == dtype) {
            return instance;
        }
        NDManager manager = engine.newBaseManager(device);
        instance = new DjlBackend(device, dtype, manager);
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
                                + engine.getGpuCount() + " GPU(s); this build loaded " + loadedEngine(engine)
                                + ". Use device 'cpu', or, on a machine with CUDA, run PEFT4J_BUILD=gpu"
                                + " PYTORCH_FLAVOR=cu128 PEFT4J_ENGINE_DOWNLOAD=1 ./peft4j ... (DJL fetches its CUDA"
                                + " libtorch 2.7.1 once), or point PYTORCH_LIBRARY_PATH at a CUDA libtorch 2.7.1;"
                                + " see docs/devices.md");
                    }
                    return Device.gpu(index);
                }
                throw new IllegalArgumentException("unknown device '" + name + "'; valid: cpu, cuda, cuda:N, auto");
        }
    }

    private static String loadedEngine(Engine engine) {
        return "PyTorch " + engine.getVersion() + (engine.getGpuCount() == 0 ? " for the CPU" : "");
    }

    private static DataType resolveDtype(String name) {
        DataType named = Backend.dtypeNamed(name);
        if (named != null) {
            return named;
        }
        switch (name.trim().toLowerCase()) {
            case "bfloat16": case "bf16": case "auto":
                // DJL 0.36 ends the JVM on any bf16 array: weights stay float32, the products run in bf16 (see below)
                return DataType.FLOAT32;
            default:
                throw new IllegalArgumentException("unknown dtype '" + name + "'; valid: float32, float16, bfloat16, auto");
        }
    }

    /**
     * The products' precision for a dtype name ({@link PrecisionChoice}); a fallback or an emulated
     * bfloat16 is logged and shown by {@link #describe()}.
     */
    private static ComputePrecision resolvePrecision(String dtype, Device device) {
        PrecisionChoice choice = PrecisionChoice.of(dtype, device.isGpu(), ComputePrecision.cpuFlags(),
                wantsBfloat16(dtype) ? ComputePrecision.bfloat16Unavailable() : null);
        precisionNote = choice.note();
        if (choice.note() != null) {
            LOG.log(System.Logger.Level.WARNING, choice.note());
        }
        return choice.precision();
    }

    private static boolean wantsBfloat16(String dtype) {
        String n = dtype == null ? "" : dtype.trim().toLowerCase();
        return n.equals("bfloat16") || n.equals("bf16") || n.equals("auto");
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public DataType dtype() {
        return dtype;
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    @Override
    public void seed(long seed) {
        JniUtils.setSeed(seed);
        DropoutMasks.seed(seed);
    }

    @Override
    public int threads() {
        return JniUtils.getNumThreads();
    }

    @Override
    public String engineVersion() {
        return "PyTorch " + Engine.getEngine("PyTorch").getVersion();
    }

    @Override
    public String bindingVersion() {
        return Engine.getDjlVersion();
    }

    @Override
    public String describe() {
        return engineVersion() + " on " + device + ", " + dtype
                + (ComputePrecision.current() == ComputePrecision.BFLOAT16 ? " weights with bfloat16 products" : "")
                + ", " + threads() + " threads" + (precisionNote == null ? "" : " (" + precisionNote + ")");
    }

    @Override
    public boolean gradMode() {
        return JniUtils.isGradMode();
    }

    @Override
    public void setGradMode(boolean on) {
        JniUtils.setGradMode(on);
    }

    @Override
    public GradientTape newGradientTape() {
        GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector();
        return new GradientTape() {
            @Override
            public void backward(NDArray loss) {
                collector.backward(loss);
            }

            @Override
            public void close() {
                collector.close();
            }
        };
    }

    @Override
    public boolean backward(NDArray out, NDArray grad) {
        try {
            JniUtils.backward((PtNDArray) out, (PtNDArray) grad, false, false);
            return true;
        } catch (EngineException e) {
            // the engine can only tell by trying: asking an array without a gradient function for its
            // name crashes the process
            if (String.valueOf(e.getMessage()).contains("does not require grad")) {
                return false;
            }
            throw e;
        }
    }

    @Override
    public NDArray gradient(NDArray leaf) {
        PtNDArray g = JniUtils.getGradient((PtNDArray) leaf);
        return g == null || g.getHandle() == null ? null : g;
    }

    @Override
    public void zeroGradient(NDArray parameter) {
        if (parameter instanceof PtNDArray) {
            JniUtils.zeroGrad((PtNDArray) parameter);
        }
    }
}
