package org.peft4j.tensor;

/**
 * Engine settings.
 *
 * @param device  "cpu", "cuda", "cuda:N" or "auto" (a GPU when the engine sees one)
 * @param dtype   dtype of the frozen weights: "float32", or "float16" (trainable weights stay float32);
 *                "bfloat16": float32 weights with bfloat16 matrix products on the CPU ({@link ComputePrecision});
 *                "auto": bfloat16 products where the CPU has AVX512-BF16 or AMX, else float32
 * @param threads intra-op threads; 0 keeps libtorch's default (one per core)
 */
public record BackendConfig(String device, String dtype, int threads) {

    public static BackendConfig defaults() {
        return new BackendConfig("cpu", "float32", 0);
    }
}
