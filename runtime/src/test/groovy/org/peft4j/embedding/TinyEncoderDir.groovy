package org.peft4j.embedding

import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.models.bert.TinyBert

import java.nio.file.Files
import java.nio.file.Path

/**
 * A complete Hugging Face directory for the tiny random BERT of the model specs: config.json,
 * model.safetensors and a word-level tokenizer.json whose words are {@code w4 .. w19} (ids 4..19),
 * so the whole embedding pipeline runs on it in milliseconds.
 */
final class TinyEncoderDir {

    static final List<String> WORDS = (4..<TinyBert.VOCAB).collect { "w$it".toString() }

    private TinyEncoderDir() {
    }

    static Path write(Path dir, long seed, Map configOverrides = [:]) {
        new TinyBert(seed).writeTo(dir, configOverrides)
        Files.writeString(dir.resolve('tokenizer.json'), new ObjectMapper().writeValueAsString(tokenizerJson()))
        dir
    }

    static Map tokenizerJson() {
        def specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]']
        Map vocab = [:]
        specials.eachWithIndex { t, i -> vocab[t] = i }
        WORDS.eachWithIndex { w, i -> vocab[w] = i + 4 }
        def special = { String t -> [SpecialToken: [id: t, type_id: 0]] }
        [version       : '1.0', truncation: null, padding: null,
         added_tokens  : specials.withIndex().collect { t, i ->
             [id: i, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true]
         },
         normalizer    : null,
         pre_tokenizer : [type: 'Whitespace'],
         post_processor: [type          : 'TemplateProcessing',
                          single        : [special('[CLS]'), [Sequence: [id: 'A', type_id: 0]], special('[SEP]')],
                          pair          : [special('[CLS]'), [Sequence: [id: 'A', type_id: 0]], special('[SEP]'),
                                           [Sequence: [id: 'B', type_id: 1]], [SpecialToken: [id: '[SEP]', type_id: 1]]],
                          special_tokens: ['[CLS]': [id: '[CLS]', ids: [2], tokens: ['[CLS]']],
                                           '[SEP]': [id: '[SEP]', ids: [3], tokens: ['[SEP]']]]],
         decoder       : null,
         model         : [type: 'WordLevel', vocab: vocab, unk_token: '[UNK]']]
    }
}
