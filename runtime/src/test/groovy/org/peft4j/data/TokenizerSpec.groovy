package org.peft4j.data

import spock.lang.AutoCleanup
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

class TokenizerSpec extends Specification {

    // Expected ids are written down from the "vocab" of all-minilm-l6-v2-tokenizer.json (BERT
    // uncased WordPiece): [PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102, !=999, the=1996, world=2088,
    // free=2489, money=2769, hello=7592.

    @Shared
    @AutoCleanup
    Tokenizer tokenizer = MiniLm.tokenizer(16)

    @TempDir
    Path dir

    def "MiniLM's tokenizer turns '#text' into #ids"() {
        when:
        Encoded e = tokenizer.encode(text)

        then:
        e.ids() as List == ids
        e.typeIds() as List == [0] * ids.size()
        !e.truncated()

        where:
        text               || ids
        'hello world'      || [101, 7592, 2088, 102]
        'Hello World'      || [101, 7592, 2088, 102]
        'FREE money!'      || [101, 2489, 2769, 999, 102]
        ''                 || [101, 102]
    }

    def "a text longer than maxLength is cut to maxLength tokens, ends with [SEP] and is marked truncated"() {
        when:
        Encoded e = tokenizer.encode(('the world ' * 20).trim())

        then:
        e.length() == 16
        e.ids()[0] == 101
        e.ids()[15] == 102
        e.ids()[1..14] as List == [1996, 2088] * 7
        e.truncated()
    }

    def "a text of exactly maxLength tokens is not marked truncated"() {
        expect:
        !tokenizer.encode(('the ' * 14).trim()).truncated()
        tokenizer.encode(('the ' * 14).trim()).length() == 16
        tokenizer.encode(('the ' * 15).trim()).truncated()
    }

    def "batch encoding gives the same ids as encoding one text at a time, in input order"() {
        given:
        List<String> texts = (0..<2500).collect { i -> "text number $i " + ('free money ' * (i % 9)) }

        when:
        List<Encoded> all = tokenizer.encodeAll(texts)

        then:
        all.size() == texts.size()
        [0, 1, 1023, 1024, 2047, 2048, 2499].every { i ->
            Encoded one = tokenizer.encode(texts[i])
            all[i].ids() == one.ids() && all[i].truncated() == one.truncated()
        }
    }

    def "the pad id comes from the file's padding section"() {
        expect:
        tokenizer.padId() == 0
        tokenizer.maxLength() == 16
    }

    def "maxLength above DJL's default model limit of 512 is kept"() {
        given:
        Tokenizer long1k = MiniLm.tokenizer(1024)

        expect:
        long1k.encode(('the ' * 2000).trim()).length() == 1024

        cleanup:
        long1k?.close()
    }

    def "a model directory without tokenizer.json is named in the error"() {
        when:
        Tokenizer.load(dir, 128)

        then:
        IllegalArgumentException e = thrown()
        e.message.startsWith("no tokenizer.json in $dir")
    }

    def "a model directory that does not exist is named in the error"() {
        when:
        Tokenizer.load(dir.resolve('models/none'), 128)

        then:
        IllegalArgumentException e = thrown()
        e.message == "model directory ${dir.resolve('models/none')} does not exist"
    }
}
