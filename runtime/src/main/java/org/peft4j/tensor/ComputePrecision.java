package org.peft4j.tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The precision the large matrix products compute in. Weights, their gradients and the optimizer's
 * state stay float32 whatever this says (bfloat16 arrays abort DJL 0.36, and float32 masters are what
 * mixed-precision training keeps anyway); only the products of the big linears and of attention cast
 * their operands to bfloat16 inside one fused call and return float32, as
 * {@code torch.autocast("cpu", dtype=torch.bfloat16)} does for the same ops.
 */
public enum ComputePrecision {

    /** Every op in float32: the numbers the oracle checks hold to. */
    FLOAT32,

    /**
     * Matrix products in bfloat16 with float32 accumulation (8 significant bits per operand: relative
     * error about 2⁻⁹ per element before accumulation); softmax, norms, losses and the residual stream
     * in float32.
     */
    BFLOAT16;

    private static final Pattern FLAGS = Pattern.compile("^flags\\s*:(.*)$", Pattern.MULTILINE);

    private static volatile ComputePrecision current = FLOAT32;

    /** The precision ops use now. */
    public static ComputePrecision current() {
        return current;
    }

    /**
     * Switches every later op to {@code precision}; the bench uses this to time both precisions in one
     * process. BFLOAT16 needs the fused kernels ({@link #bfloat16Unavailable()}).
     */
    public static void use(ComputePrecision precision) {
        if (precision == BFLOAT16) {
            String why = bfloat16Unavailable();
            if (why != null) {
                throw new IllegalStateException("bfloat16 compute is not available: " + why);
            }
        }
        current = precision;
    }

    /**
     * What a dtype name means for the products on this CPU: "float32"/"fp32", "bfloat16"/"bf16" (float32
     * where the bfloat16 kernels cannot load), or "auto": bfloat16 where the CPU multiplies bfloat16
     * natively (AVX512-BF16 or AMX-BF16) and the kernels load, else float32 (emulated bfloat16 products
     * are slower than float32 ones). Any other name is refused.
     */
    public static ComputePrecision resolve(String name) {
        String n = name == null ? "float32" : name.trim().toLowerCase();
        if (!Set.of("float32", "fp32", "f32", "bfloat16", "bf16", "auto").contains(n)) {
            throw new IllegalArgumentException("unknown precision '" + name
                    + "'; valid: float32 (fp32), bfloat16 (bf16), auto");
        }
        return PrecisionChoice.of(n, false, cpuFlags(), bfloat16Unavailable()).precision();
    }

    /** Null when bfloat16 compute can run here, else why not. */
    public static String bfloat16Unavailable() {
        return TorchBridge.unavailableReason();
    }

    /** Whether this CPU has bfloat16 dot-product instructions (Linux: /proc/cpuinfo's flags). */
    public static boolean nativeBfloat16() {
        return nativeBfloat16(cpuFlags());
    }

    static boolean nativeBfloat16(Set<String> flags) {
        return flags.contains("avx512_bf16") || flags.contains("amx_bf16");
    }

    /** The first processor's feature flags, or none where /proc/cpuinfo is not readable. */
    public static Set<String> cpuFlags() {
        try {
            var m = FLAGS.matcher(Files.readString(Path.of("/proc/cpuinfo")));
            return m.find() ? Set.copyOf(java.util.Arrays.asList(m.group(1).trim().split("\\s+"))) : Set.of();
        } catch (IOException | RuntimeException e) {
            return Set.of();
        }
    }
}
