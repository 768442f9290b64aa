package org.peft4j.models.core;

import java.util.List;

/**
 * The fields every Hugging Face {@code config.json} may carry whatever its family, none of which
 * changes the model's math here.
 *
 * @param modelType   {@code model_type}
 * @param eosTokenIds {@code eos_token_id}: one id or a list of them (Llama 3 stops at several); empty when absent
 * @param dtype       the dtype of the stored weights: Transformers 5's {@code dtype}, else 4.x's
 *                    {@code torch_dtype}; null when absent. Weights are widened to float32 on load either way.
 */
public record CommonFields(String modelType, List<Integer> eosTokenIds, String dtype) {

    public CommonFields {
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /** Reads them; a missing {@code model_type} reads as {@code fallbackType}. */
    public static CommonFields read(ConfigFields f, String fallbackType) {
        String dtype = f.string("dtype", f.string("torch_dtype", null));
        return new CommonFields(f.string("model_type", fallbackType), f.integers("eos_token_id"), dtype);
    }
}
