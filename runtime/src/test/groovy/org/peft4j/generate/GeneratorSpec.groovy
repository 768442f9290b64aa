package org.peft4j.generate

import ai.djl.ndarray.NDManager
import org.peft4j.data.CausalLmTokenizer
import org.peft4j.models.Registry
import org.peft4j.models.core.DecoderForCausalLM
import org.peft4j.models.core.Task
import org.peft4j.models.llama.TinyLlama
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.CharTokenizer
import spock.lang.AutoCleanup
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

class GeneratorSpec extends Specification {

    @TempDir
    @Shared
    Path tmp

    @Shared
    DecoderForCausalLM lm

    @Shared
    @AutoCleanup
    CausalLmTokenizer tokenizer

    NDManager m = Backend.get().manager()

    def setupSpec() {
        lm = TinyLlama.load(tmp.resolve('model'), 31)
        tokenizer = CausalLmTokenizer.load(CharTokenizer.write(tmp.resolve('tok')))
    }

    static final int[] PROMPT = [7, 12, 3, 20, 9]

    /** Greedy decoding done the slow, obvious way: full forward, argmax of the last position, append. */
    List<Integer> greedyByHand(int[] prompt, int n) {
        List<Integer> seq = prompt as List
        n.times {
            try (def s = new StepScope()) {
                def logits = lm.forward(m.create([seq as long[]] as long[][]), null)
                seq << (int) logits.get(0, seq.size() - 1).argMax().getLong()
            }
        }
        seq.drop(prompt.length)
    }

    def "greedy decoding with and without the KV cache picks the argmax of a full forward at every step"() {
        given:
        def gen = new Generator(lm, m)

        when:
        def cached = gen.generate(PROMPT, GenerationConfig.greedy(12))
        def uncached = gen.generate(PROMPT, GenerationConfig.greedy(12).withCache(false))

        then:
        cached.ids() as List == greedyByHand(PROMPT, 12)
        uncached.ids() as List == cached.ids() as List
        cached.stopReason() == Generation.StopReason.MAX_NEW_TOKENS
        [cached, uncached].every { it.firstTokenSeconds() > 0 && it.firstTokenSeconds() <= it.seconds() }
    }

    def "sampling is repeatable with a seed, and top-k = 1 is greedy"() {
        given:
        def gen = new Generator(lm, m)
        def sampled = GenerationConfig.greedy(15).withSampling(1.5, 0, 0.9, 7)

        expect:
        gen.generate(PROMPT, sampled).ids() == gen.generate(PROMPT, sampled).ids()
        gen.generate(PROMPT, GenerationConfig.greedy(15).withSampling(2.0, 1, 1.0, 3)).ids() ==
                gen.generate(PROMPT, GenerationConfig.greedy(15)).ids()
        gen.generate(PROMPT, GenerationConfig.greedy(15).withSampling(1.0, 0, 1e-6, 3)).ids() ==
                gen.generate(PROMPT, GenerationConfig.greedy(15)).ids()
    }

    def "high-temperature sampling draws different tokens than greedy, all inside the vocabulary"() {
        given:
        def gen = new Generator(lm, m)

        when:
        def ids = gen.generate(PROMPT, GenerationConfig.greedy(30).withSampling(5.0, 0, 1.0, 11)).ids()

        then:
        ids.every { it >= 0 && it < TinyLlama.VOCAB }
        ids != gen.generate(PROMPT, GenerationConfig.greedy(30)).ids()
    }

    def "a stop token ends generation and is not returned"() {
        given:
        def gen = new Generator(lm, m)
        List<Integer> greedy = gen.generate(PROMPT, GenerationConfig.greedy(10)).ids() as List
        int stop = greedy[3]

        when:
        def g = gen.generate(PROMPT, GenerationConfig.greedy(10).withStops([], [stop] as Set))

        then:
        g.ids() as List == greedy.take(greedy.indexOf(stop))
        g.stopReason() == Generation.StopReason.STOP_TOKEN
    }

    def "a stop string cuts the text before it"() {
        given:
        def gen = new Generator(lm, m)
        String full = gen.generate('<|im_start|>user\nhi', tokenizer, GenerationConfig.greedy(12)).text()
        String stop = full.substring(4, 6)

        when:
        def g = gen.generate('<|im_start|>user\nhi', tokenizer, GenerationConfig.greedy(12).withStops([stop], [] as Set))

        then:
        g.text() == full.substring(0, full.indexOf(stop))
        g.stopReason() == Generation.StopReason.STOP_STRING
    }

    def "the text leaves out the special tokens among the new ids; a stop string is found with them and cut"() {
        given: "ids that hold <unk> and <|endoftext|> around the characters"
        def gen = new Generator(lm, m)
        int[] ids = [CharTokenizer.vocab()['a'], 1, CharTokenizer.vocab()['b'], 4, CharTokenizer.vocab()['c']]

        expect:
        tokenizer.decode(ids) == 'a<unk>b<|endoftext|>c'
        tokenizer.decodeText(ids) == 'abc'
        Generator.textBefore(tokenizer, ids, tokenizer.decode(ids), 'a<unk>b'.length()) == 'ab'
        Generator.textBefore(tokenizer, ids, tokenizer.decode(ids), 'a<unk>b<|endof'.length()) == 'ab<|endof'
        Generator.textBefore(tokenizer, ids, tokenizer.decode(ids), 1) == 'a'
        Generator.textBefore(tokenizer, ids, tokenizer.decode(ids), 0) == ''

        and: "what generate returns"
        gen.generate('<|im_start|>user\nhi', tokenizer, GenerationConfig.greedy(12)).with { it.text() == tokenizer.decodeText(it.ids()) }
    }

    def "a model with a fresh LoRA adapter (B = 0) generates what the base model generates"() {
        given:
        def base = TinyLlama.load(tmp.resolve('lora-base'), 32)
        def expected = new Generator(base, m).generate(PROMPT, GenerationConfig.greedy(10)).ids()
        LoraInjector.inject(base, LoraConfig.of(4, 8, 0, ['q_proj', 'v_proj'], []), m)

        expect:
        new Generator(base, m).generate(PROMPT, GenerationConfig.greedy(10)).ids() == expected
    }

    def "a config with impossible values lists them all"() {
        when:
        new GenerationConfig(0, -1, -2, 0, ['', 'x'], [] as Set, true, 0)

        then:
        def e = thrown(org.peft4j.config.ConfigException)
        e.problems().size() == 5
    }
}
