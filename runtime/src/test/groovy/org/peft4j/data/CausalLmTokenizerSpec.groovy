package org.peft4j.data

import org.peft4j.testing.HfFixture
import spock.lang.AutoCleanup
import spock.lang.Shared
import spock.lang.Specification

/**
 * A decoder's tokenizer decodes as Transformers 5.17's AutoTokenizer does on the same tokenizer.json
 * (the llama-rope-default fixture: BPE with a Metaspace decoder, specials {@code <pad> <s> </s> <unk>}).
 */
class CausalLmTokenizerSpec extends Specification {

    @Shared
    @AutoCleanup
    CausalLmTokenizer tokenizer = CausalLmTokenizer.load(HfFixture.load('llama-rope-default').modelDir)

    static final int[] IDS = [5, 17, 3, 40, 1, 99, 2, 0, 64, 3, 3]

    def "the reader's text leaves special tokens out, as decode(ids, skip_special_tokens=True)"() {
        expect:
        tokenizer.decodeText(IDS) == 'boight qu w'
    }

    def "the text for stop strings keeps them, as decode(ids, skip_special_tokens=False)"() {
        expect:
        tokenizer.decode(IDS) == 'bo<unk>ight<s> qu</s><pad> w<unk><unk>'
    }
}
