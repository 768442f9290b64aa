package org.peft4j.cli

import org.peft4j.data.CausalLmTokenizer
import org.peft4j.models.core.CausalLm
import org.peft4j.models.Registry
import org.peft4j.models.core.Task
import org.peft4j.nn.Module
import org.peft4j.config.ConfigException
import org.peft4j.export.MergedDecoder
import org.peft4j.peft.files.PeftAdapters

import java.nio.file.Path

/** generate's and perplexity's model: a decoder's Hugging Face directory, its tokenizer, and an optional adapter. */
final class LanguageModels {

    private LanguageModels() {
    }

    /** Checks the directories, then loads; a model_type peft4j does not decode is the user's mistake (exit 2). */
    static CausalLm load(Path modelDir, Path adapter) {
        load(modelDir, adapter, false)
    }

    /**
     * As {@link #load(Path, Path)}; with {@code merge} the adapter (LoRA or AdaLoRA) is folded into the
     * weights before decoding, so no adapter branch runs per token.
     */
    static CausalLm load(Path modelDir, Path adapter, boolean merge) {
        Models.modelDir(modelDir, 'model')
        if (adapter != null) {
            Models.modelDir(adapter, 'adapter')
        }
        if (merge) {
            if (adapter == null) {
                throw new UserError('--merge folds an adapter into the model; give --adapter DIR too')
            }
            try {
                return MergedDecoder.load(modelDir, adapter)
            } catch (ConfigException e) {
                throw e   // every mismatch listed; Main reports it as a usage mistake (exit 2)
            } catch (IllegalArgumentException e) {
                throw new UserError(e.message)
            }
        }
        CausalLm lm
        try {
            lm = Registry.load(modelDir, Task.CAUSAL_LM)
        } catch (IllegalArgumentException e) {
            throw new UserError(e.message)
        }
        if (adapter != null) {
            // LoRA or AdaLoRA by peft_type; an adapter that does not fit raises a ConfigException listing every mismatch: exit 2 too
            try {
                PeftAdapters.load(adapter, (Module) lm)
            } catch (ConfigException e) {
                throw e
            } catch (IllegalArgumentException e) {
                throw new UserError(e.message)
            }
        }
        ((Module) lm).train(false)
        lm
    }

    static CausalLmTokenizer tokenizer(Path modelDir) {
        try {
            CausalLmTokenizer.load(modelDir)
        } catch (IllegalArgumentException e) {
            throw new UserError(e.message)
        }
    }

    /** config.json's eos_token_id (a number or a list of them): decoding stops there, as in transformers. */
    static Set<Integer> eosTokenIds(Path modelDir) {
        new LinkedHashSet<>(Registry.config(modelDir).eosTokenIds())
    }
}
