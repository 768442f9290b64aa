package org.peft4j.run;

import org.peft4j.data.ChatTemplate;
import org.peft4j.data.TextFormat;

import java.util.ArrayList;
import java.util.List;

/**
 * What a causal-LM run needs beyond a model and files.
 *
 * @param format       how the data files read (all splits alike)
 * @param template     the chat template for instructions and chats; null to take the model's own
 *                     (its tokenizer_config.json's chat_template) when it is one peft4j knows
 * @param prompts      prompts generated from before and after training (greedy), so the result can be read;
 *                     user messages for instructions and chats, text to continue for plain texts
 * @param maxNewTokens the token budget of each of those generations
 * @param packing      concatenate the examples and cut the stream into blocks of data.maxLength tokens,
 *                     so no position is padding (nothing is truncated away either)
 */
public record CausalLmOptions(TextFormat format, ChatTemplate template, List<String> prompts, int maxNewTokens,
                              boolean packing) {

    public static final int MAX_NEW_TOKENS_LIMIT = 4096;

    public CausalLmOptions {
        prompts = prompts == null ? List.of() : List.copyOf(prompts);
    }

    public List<String> validate() {
        List<String> p = new ArrayList<>();
        if (format == null) {
            p.add("data: a causalLm task reads instructions('...'), chats('...') or texts('...') files;"
                    + " write e.g. train chats('train.jsonl')");
        }
        if (format == TextFormat.TEXTS && template != null) {
            p.add("task causalLm(template: '" + template.name().toLowerCase() + "') applies to instructions and chats;"
                    + " plain texts(...) are read as they are: remove template");
        }
        if (maxNewTokens < 1 || maxNewTokens > MAX_NEW_TOKENS_LIMIT) {
            p.add("task causalLm(maxNewTokens: " + maxNewTokens + ") must be in [1, " + MAX_NEW_TOKENS_LIMIT + "]");
        }
        for (int i = 0; i < prompts.size(); i++) {
            if (prompts.get(i) == null || prompts.get(i).isEmpty()) {
                p.add("task causalLm(prompts: [...]): prompt " + (i + 1) + " is empty; a model needs text to continue");
            }
        }
        return p;
    }
}
