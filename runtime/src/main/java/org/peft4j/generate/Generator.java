package org.peft4j.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import org.peft4j.data.CausalLmTokenizer;
import org.peft4j.models.core.CausalLm;
import org.peft4j.models.core.KvCache;
import org.peft4j.nn.Module;

import java.util.Arrays;

/**
 * Autoregressive decoding of one sequence with any {@link CausalLm} (a base model, or one with
 * LoRA adapters in place: they wrap its linears, so nothing here changes). With the cache, the
 * prompt is read once and each step feeds one token; without it, each step re-reads everything.
 */
public final class Generator {

    private final CausalLm model;
    private final NDManager manager;

    public Generator(CausalLm model, NDManager manager) {
        this.model = model;
        this.manager = manager;
    }

    /** Continues {@code prompt} ids; stops on the config's stop tokens or token budget. */
    public Generation generate(int[] prompt, GenerationConfig config) {
        return run(prompt, config, null);
    }

    /** Continues a text; stops on stop tokens, stop strings (cut from the text) or the token budget. */
    public Generation generate(String prompt, CausalLmTokenizer tokenizer, GenerationConfig config) {
        return run(tokenizer.encode(prompt), config, tokenizer);
    }

    private Generation run(int[] prompt, GenerationConfig config, CausalLmTokenizer tokenizer) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty; a causal LM needs at least one token to continue");
        }
        if (model instanceof Module module) {
            module.train(false);   // dropout off
        }
        Sampler sampler = new Sampler(config);
        int[] all = Arrays.copyOf(prompt, prompt.length + config.maxNewTokens());
        int length = prompt.length;
        int produced = 0;
        Generation.StopReason reason = Generation.StopReason.MAX_NEW_TOKENS;
        String text = null;
        long start = System.nanoTime();
        long firstToken = -1;
        try (KvCache cache = config.useCache() ? model.newCache() : null) {
            while (produced < config.maxNewTokens()) {
                if (length >= model.maxPositions()) {
                    reason = Generation.StopReason.MAX_POSITIONS;
                    break;
                }
                int next;
                // one scope per step: logits and activations go, the cache's arrays stay
                try (NDScope scope = new NDScope()) {
                    // with a filled cache only the newest token is fed; otherwise the whole sequence
                    int from = cache != null && cache.length() > 0 ? length - 1 : 0;
                    long[] input = new long[length - from];
                    for (int i = from; i < length; i++) {
                        input[i - from] = all[i];
                    }
                    NDArray ids = manager.create(input).reshape(1, input.length);           // (1, T)
                    NDArray logits = model.forward(ids, null, null, cache);                 // (1, T, V)
                    next = sampler.next(logits.get(0, input.length - 1));                   // (V) -> id
                }
                if (firstToken < 0) {
                    firstToken = System.nanoTime();
                }
                if (config.stopTokenIds().contains(next)) {
                    reason = Generation.StopReason.STOP_TOKEN;
                    break;
                }
                all[length++] = next;
                produced++;
                if (tokenizer != null && !config.stopStrings().isEmpty()) {
                    text = beforeStop(tokenizer, Arrays.copyOfRange(all, prompt.length, length), config);
                    if (text != null) {
                        reason = Generation.StopReason.STOP_STRING;
                        break;
                    }
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int[] newIds = Arrays.copyOfRange(all, prompt.length, length);
        if (tokenizer != null && text == null) {
            text = tokenizer.decodeText(newIds);
        }
        return new Generation(newIds, text, reason, seconds, firstToken < 0 ? 0 : (firstToken - start) / 1e9);
    }

    /**
     * The new text before the first stop string, or null when there is none yet. A stop string is looked
     * for in the text as shown and, so that a special token such as {@code <|im_end|>} can be one, in the
     * text with special tokens.
     */
    private static String beforeStop(CausalLmTokenizer tokenizer, int[] ids, GenerationConfig config) {
        String shown = tokenizer.decodeText(ids);
        int cut = firstStop(shown, config);
        if (cut >= 0) {
            return shown.substring(0, cut);
        }
        String withSpecials = tokenizer.decode(ids);
        cut = firstStop(withSpecials, config);
        return cut < 0 ? null : textBefore(tokenizer, ids, withSpecials, cut);
    }

    /**
     * The reader's text ({@link CausalLmTokenizer#decodeText}, special tokens left out) of the new tokens
     * before a stop string that starts at {@code cut} of {@code withSpecials}, their decoding with special
     * tokens: the longest run of whole tokens that ends before the stop, then what the token holding the
     * stop's start writes before it.
     */
    static String textBefore(CausalLmTokenizer tokenizer, int[] ids, String withSpecials, int cut) {
        int whole = ids.length;
        String head = withSpecials;
        while (whole > 0 && (head.length() > cut || !withSpecials.startsWith(head))) {
            whole--;
            head = tokenizer.decode(Arrays.copyOf(ids, whole));
        }
        return tokenizer.decodeText(Arrays.copyOf(ids, whole)) + withSpecials.substring(head.length(), cut);
    }

    private static int firstStop(String text, GenerationConfig config) {
        int best = -1;
        for (String s : config.stopStrings()) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }
}
