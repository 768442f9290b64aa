package org.peft4j.models.core;

import java.util.List;
import java.util.Map;

/**
 * The fields every Hugging Face {@code config.json} may carry whatever its family.
 *
 * @param modelType   {@code model_type}
 * @param eosTokenIds {@code eos_token_id}: one id or a list of them (Llama 3 stops at several); empty when absent
 * @param dtype       the dtype of the stored weights: Transformers 5's {@code dtype}, else 4.x's
 *                    {@code torch_dtype}; null when absent. Weights are widened to float32 on load either way.
 * @param padTokenId  {@code pad_token_id}, which a decoder's sequence classifier reads to find each row's
 *                    last real token; null when the config says null, or says nothing and the family's
 *                    Transformers config has no default
 */
public record CommonFields(String modelType, List<Integer> eosTokenIds, String dtype, Integer padTokenId) {

    /**
     * pad_token_id of the Transformers config classes whose default is not None, for config.json
     * files that leave it out (Transformers 5 writes it; older files may not).
     */
    private static final Map<String, Integer> PAD_DEFAULTS = Map.of("bert", 0, "roberta", 1, "xlm-roberta", 1,
            "gemma3_text", 0, "smollm3", 128004);

    public CommonFields {
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /** Fields without a pad token. */
    public CommonFields(String modelType, List<Integer> eosTokenIds, String dtype) {
        this(modelType, eosTokenIds, dtype, null);
    }

    /** Reads them; a missing {@code model_type} reads as {@code fallbackType}. */
    public static CommonFields read(ConfigFields f, String fallbackType) {
        String dtype = f.string("dtype", f.string("torch_dtype", null));
        String type = f.string("model_type", fallbackType);
        Integer pad = f.root().has("pad_token_id") ? (f.has("pad_token_id") ? f.integer("pad_token_id", null) : null)
                : PAD_DEFAULTS.get(type);
        return new CommonFields(type, f.integers("eos_token_id"), dtype, pad);
    }
}
