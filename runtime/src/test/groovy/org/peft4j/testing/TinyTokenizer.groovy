package org.peft4j.testing

import com.fasterxml.jackson.databind.ObjectMapper

import java.nio.file.Files
import java.nio.file.Path

/**
 * A word-level tokenizer.json whose 20 ids fit {@code TinyBert}'s vocabulary: [PAD] 0, [UNK] 1,
 * [CLS] 2, [SEP] 3, then the words "a" .. "p" as 4 .. 19; whitespace splits words, and BERT's
 * template wraps each text as [CLS] ... [SEP].
 */
final class TinyTokenizer {

    static final List<String> WORDS = ('a'..'p').toList()

    private TinyTokenizer() {
    }

    static Path writeTo(Path dir) {
        Map<String, Integer> vocab = ['[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3]
        WORDS.eachWithIndex { String w, int i -> vocab[w] = i + 4 }
        def json = [
                version       : '1.0',
                truncation    : null,
                padding       : null,
                added_tokens  : ['[PAD]', '[UNK]', '[CLS]', '[SEP]'].collect {
                    [id: vocab[it], content: it, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true]
                },
                normalizer    : null,
                pre_tokenizer : [type: 'Whitespace'],
                post_processor: [type          : 'TemplateProcessing',
                                 single        : [[SpecialToken: [id: '[CLS]', type_id: 0]], [Sequence: [id: 'A', type_id: 0]],
                                                  [SpecialToken: [id: '[SEP]', type_id: 0]]],
                                 pair          : [[SpecialToken: [id: '[CLS]', type_id: 0]], [Sequence: [id: 'A', type_id: 0]],
                                                  [SpecialToken: [id: '[SEP]', type_id: 0]], [Sequence: [id: 'B', type_id: 1]],
                                                  [SpecialToken: [id: '[SEP]', type_id: 1]]],
                                 special_tokens: ['[CLS]': [id: '[CLS]', ids: [2], tokens: ['[CLS]']],
                                                  '[SEP]': [id: '[SEP]', ids: [3], tokens: ['[SEP]']]]],
                decoder       : null,
                model         : [type: 'WordLevel', vocab: vocab, unk_token: '[UNK]'],
        ]
        dir.toFile().mkdirs()
        Files.writeString(dir.resolve('tokenizer.json'), new ObjectMapper().writeValueAsString(json))
        dir
    }
}
