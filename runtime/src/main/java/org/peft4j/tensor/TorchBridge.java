package org.peft4j.tensor;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * bytedeco's JavaCPP binding of libtorch, bound to the libtorch that DJL has loaded: one libtorch, two
 * bindings, one autograd graph. DJL 0.36's JNI has no fused attention and aborts on any bfloat16 array;
 * through this binding the same process reaches libtorch's whole C++ API on DJL's own tensors.
 *
 * <p>Why it is loaded by hand: bytedeco's native jar carries a libtorch of its own, and two libtorch copies
 * cannot share a process (the second aborts registering its dispatch keys). So the build keeps only the
 * binding's JNI library ({@code libjnitorch.so}, see runtime/pom.xml); loaded after DJL's libtorch, its
 * {@code libtorch_cpu.so} and {@code libc10.so} dependencies resolve by soname to the copies already in the
 * process. JavaCPP's own loader is switched off, since it would look for the libtorch and OpenBLAS the
 * build left out. The binding is compiled against libtorch {@value #TORCH_VERSION}; with any other
 * libtorch (a user's {@code PYTORCH_VERSION}, a CUDA build) the bridge stays off and every op takes
 * DJL's path.
 *
 * <p>Arrays cross without copies: {@link #view} reads a DJL array's {@code at::Tensor} in place, and
 * {@link #adopt} hands a result's {@code at::Tensor} to DJL, which frees it with its manager. Gradients
 * flow across both ways because both bindings record on libtorch's one autograd graph.
 */
final class TorchBridge {

    /** The libtorch version bytedeco's binding was built for (org.bytedeco:pytorch 2.7.1-1.5.12). */
    static final String TORCH_VERSION = "2.7.1";

    private static final String JNI_RESOURCE = "/org/peft4j/tensor/native/linux-x86_64/libjnitorch.so";
    private static final String JAVACPP_RESOURCE = "/org/bytedeco/javacpp/linux-x86_64/libjnijavacpp.so";

    private static volatile String state;   // null: not tried; "" loaded; else why not

    private TorchBridge() {
    }

    /** Whether the binding is loaded on this process's libtorch (loading it on the first call). */
    static boolean available() {
        return unavailableReason() == null;
    }

    /** Null when the bridge is loaded, else why it is not (for logs and error messages). */
    static String unavailableReason() {
        String s = state;
        if (s == null) {
            synchronized (TorchBridge.class) {
                if (state == null) {
                    state = load();
                }
                s = state;
            }
        }
        return s.isEmpty() ? null : s;
    }

    private static String load() {
        if ("engine".equals(System.getProperty("peft4j.kernels"))) {
            return "switched off by -Dpeft4j.kernels=engine";
        }
        String os = System.getProperty("os.name", "").toLowerCase();
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return "the binding is built for linux-x86_64, this is " + os + "-" + arch;
        }
        // DJL's libtorch first: the binding's library binds to it by soname
        Engine engine = Engine.getEngine("PyTorch");
        if (!TORCH_VERSION.equals(engine.getVersion())) {
            return "the engine runs libtorch " + engine.getVersion() + ", the binding needs " + TORCH_VERSION;
        }
        if (engine.getGpuCount() > 0) {
            return "the engine loaded a CUDA libtorch; the binding is the CPU build";
        }
        try (InputStream probe = TorchBridge.class.getResourceAsStream(JNI_RESOURCE)) {
            if (probe == null) {
                return "this build has no " + JNI_RESOURCE.substring(1);
            }
        } catch (IOException e) {
            return "cannot read " + JNI_RESOURCE + ": " + e.getMessage();
        }
        try {
            Path dir = cacheDir();
            Path javacpp = extract(JAVACPP_RESOURCE, dir, "libjnijavacpp.so");
            Path torch = extract(JNI_RESOURCE, dir, "libjnitorch.so");
            System.setProperty("org.bytedeco.javacpp.loadlibraries", "false");
            System.load(javacpp.toString());
            System.load(torch.toString());
            // one cheap call proves the symbols resolved against this libtorch
            org.bytedeco.pytorch.global.torch.get_num_threads();
            return "";
        } catch (IOException | LinkageError e) {
            return "could not load bytedeco's binding on this libtorch: " + e;
        }
    }

    private static Path cacheDir() throws IOException {
        String home = System.getProperty("user.home");
        Path dir = Path.of(home, ".cache", "peft4j", "native", "bytedeco-pytorch-" + TORCH_VERSION + "-1.5.12");
        Files.createDirectories(dir);
        return dir;
    }

    /** Copies a library out of the class path once; a copy of another size (an older build) is replaced. */
    private static Path extract(String resource, Path dir, String name) throws IOException {
        Path target = dir.resolve(name);
        byte[] bytes;
        try (InputStream in = TorchBridge.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("no " + resource + " on the class path");
            }
            bytes = in.readAllBytes();
        }
        if (Files.isRegularFile(target) && Files.size(target) == bytes.length) {
            return target;
        }
        // another JVM may extract at the same moment: write aside, then move into place in one step
        Path tmp = Files.createTempFile(dir, name, ".part");
        Files.write(tmp, bytes);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }

    /** A pointer at an address the bridge does not own. */
    private static final class Borrowed extends Pointer {
        Borrowed(long address) {
            this.address = address;
        }
    }

    /**
     * Loads the binding if it is not yet; throws with the reason where it cannot load. Every use of a
     * bytedeco class goes through here first: touched before the binding is loaded, JavaCPP would try to
     * load bytedeco's own libtorch and OpenBLAS, fail, and leave those classes unusable for the process.
     */
    static void require() {
        String why = unavailableReason();
        if (why != null) {
            throw new IllegalStateException("bytedeco's binding of libtorch is not loaded: " + why);
        }
    }

    /** DJL's array as a bytedeco tensor: the same {@code at::Tensor}, borrowed (closing the view frees nothing). */
    static Tensor view(NDArray array) {
        require();
        return new Tensor(new Borrowed(((PtNDArray) array).getHandle()));
    }

    /**
     * A bytedeco result as a DJL array in {@code manager} (which then frees it), with its autograd history.
     * The result itself is closed: the array holds its own reference to the same storage.
     */
    static NDArray adopt(NDManager manager, Tensor result) {
        Tensor owned = new Tensor(result);   // a new at::Tensor on the heap, sharing result's storage and graph
        long handle = owned.address();
        owned.deallocate(false);             // DJL deletes it now
        result.close();
        return new PtNDArray((PtNDManager) manager, handle);
    }
}
