package org.peft4j.tensor;

/**
 * Engine settings.
 *
 * @param device  "cpu", "cuda", "cuda:N" or "auto" (a GPU when the engine sees one)
 * @param dtype   dtype of the frozen weights: "float32", or "float16" (trainable weights stay float32;
 *                bfloat16 is refused on this engine)
 * @param threads intra-op threads; 0 keeps libtorch's default (one per core)
 */
public record BackendConfig(String device, String dtype, int threads) {

    public static BackendConfig defaults() {
        return new BackendConfig("cpu", "float32", 0);
    }
}
