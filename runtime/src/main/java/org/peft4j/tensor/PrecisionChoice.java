package org.peft4j.tensor;

import java.util.Set;

/**
 * What a configured dtype name makes of the products ({@link ComputePrecision}) on this machine, with a
 * note when that is not simply what the name says. "bfloat16"/"bf16" asks for bfloat16 products and gets
 * them wherever the bridge loads (emulated, and slower than float32, on a CPU without bfloat16
 * instructions; the note says so); where the bridge cannot load, the products stay on the engine's
 * float32 path and the note says why. "auto" takes bfloat16 only where the CPU multiplies it natively
 * (AVX512-BF16 or AMX-BF16) and the bridge loads. Every other name means float32.
 *
 * @param precision what the products compute in
 * @param note      why that differs from the name, or what it costs; null when there is nothing to say
 */
record PrecisionChoice(ComputePrecision precision, String note) {

    /**
     * @param dtype              the configured name ({@link BackendConfig#dtype()}), null for float32
     * @param gpu                whether the device is a GPU (bfloat16 products are implemented for the CPU)
     * @param cpuFlags           the CPU's feature flags ({@link ComputePrecision#cpuFlags()})
     * @param kernelsUnavailable why the bridge did not load ({@link ComputePrecision#bfloat16Unavailable()}),
     *                           null when it did
     * @throws IllegalArgumentException for "bfloat16" on a GPU
     */
    static PrecisionChoice of(String dtype, boolean gpu, Set<String> cpuFlags, String kernelsUnavailable) {
        String n = dtype == null ? "float32" : dtype.trim().toLowerCase();
        boolean auto = n.equals("auto");
        if (!auto && !n.equals("bfloat16") && !n.equals("bf16")) {
            return new PrecisionChoice(ComputePrecision.FLOAT32, null);
        }
        if (gpu) {
            if (auto) {
                return new PrecisionChoice(ComputePrecision.FLOAT32, null);
            }
            throw new IllegalArgumentException("dtype '" + dtype + "' is implemented for the CPU; on a GPU use dtype"
                    + " 'float16' or 'float32'");
        }
        if (kernelsUnavailable != null) {
            return new PrecisionChoice(ComputePrecision.FLOAT32, "dtype '" + dtype + "' runs float32 products: the"
                    + " bfloat16 kernels did not load (" + kernelsUnavailable + ")");
        }
        boolean native16 = ComputePrecision.nativeBfloat16(cpuFlags);
        if (auto) {
            return native16 ? new PrecisionChoice(ComputePrecision.BFLOAT16, null)
                    : new PrecisionChoice(ComputePrecision.FLOAT32, "dtype 'auto' runs float32 products: this CPU has"
                            + " neither avx512_bf16 nor amx_bf16, so bfloat16 products would be emulated and slower");
        }
        return new PrecisionChoice(ComputePrecision.BFLOAT16, native16 ? null
                : "this CPU has neither avx512_bf16 nor amx_bf16: bfloat16 products are emulated and slower than"
                        + " float32 (dtype 'auto' picks float32 here)");
    }
}
