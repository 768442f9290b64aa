package org.peft4j.testing

import com.fasterxml.jackson.databind.ObjectMapper

import java.nio.file.Files
import java.nio.file.Path

/**
 * A fixture's model directory (hf/) with a word-level tokenizer.json that spells token k as "wk" and adds
 * no special tokens, so that a text of such words tokenizes to exactly the ids it names: fixture rows
 * become texts for commands that tokenize (run, predict).
 */
final class IdTokenizer {

    private IdTokenizer() {
    }

    /** A copy of {@code fx}'s model directory in {@code dir} with the tokenizer; padding with {@code padId}. */
    static Path copyWith(HfFixture fx, Path dir, int padId = 0) {
        Files.createDirectories(dir)
        Files.list(fx.modelDir).withCloseable { s -> s.each { Files.copy(it, dir.resolve(it.fileName)) } }
        int vocab = new ObjectMapper().readTree(dir.resolve('config.json').toFile()).path('vocab_size').asInt()
        def json = [version: '1.0', truncation: null, padding: [strategy: 'BatchLongest', direction: 'Right', pad_to_multiple_of: null,
                                                            pad_id: padId, pad_type_id: 0, pad_token: "w$padId".toString()], added_tokens: [], normalizer: null,
                    pre_tokenizer: [type: 'WhitespaceSplit'], post_processor: null, decoder: null,
                    model: [type: 'WordLevel', vocab: (0..<vocab).collectEntries { ["w$it".toString(), it] },
                            unk_token: 'w0']]
        Files.writeString(dir.resolve('tokenizer.json'), new ObjectMapper().writeValueAsString(json))
        dir
    }

    /** Row {@code r} of the fixture's inputs, its real tokens only, as text. */
    static String text(HfFixture fx, int r) {
        [fx.inputIdRows[r], fx.attentionMaskRows[r]].transpose().findAll { it[1] == 1 }.collect { "w${it[0]}" }.join(' ')
    }
}
