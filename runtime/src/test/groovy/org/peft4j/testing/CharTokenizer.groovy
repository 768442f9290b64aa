package org.peft4j.testing

import com.fasterxml.jackson.databind.ObjectMapper

import java.nio.file.Files
import java.nio.file.Path

/**
 * A character-level WordLevel tokenizer.json, written by hand: every character is a token, and
 * the chat specials (ChatML's and an end-of-text) are added tokens, matched whole before splitting.
 */
class CharTokenizer {

    static final List<String> SPECIALS = ['<pad>', '<unk>', '<|im_start|>', '<|im_end|>', '<|endoftext|>']
    static final String CHARS = "abcdefghijklmnopqrstuvwxyz \n?.:"

    /** token -> id: specials 0..4, then the characters. */
    static Map<String, Integer> vocab() {
        Map<String, Integer> v = [:]
        SPECIALS.each { v[it] = v.size() }
        CHARS.each { v[it] = v.size() }
        v
    }

    static Path write(Path dir) {
        dir.toFile().mkdirs()
        def added = SPECIALS.withIndex().collect { String t, int i ->
            [id: i, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true]
        }
        def json = [version       : '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
                    pre_tokenizer : [type: 'Split', pattern: [Regex: '[\\s\\S]'], behavior: 'Isolated', invert: false],
                    post_processor: null, decoder: [type: 'Fuse'],
                    model         : [type: 'WordLevel', vocab: vocab(), unk_token: '<unk>']]
        Path file = dir.resolve('tokenizer.json')
        Files.writeString(file, new ObjectMapper().writeValueAsString(json))
        file
    }
}
