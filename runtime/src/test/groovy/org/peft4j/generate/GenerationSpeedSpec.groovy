package org.peft4j.generate

import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import org.peft4j.models.core.DecoderConfig
import org.peft4j.models.Registry
import org.peft4j.models.core.DecoderForCausalLM
import org.peft4j.models.core.Task
import org.peft4j.tensor.Backend
import spock.lang.Requires
import spock.lang.Specification

/**
 * Greedy generation speed with and without the KV cache on a random ~8M-parameter Llama: 128 new
 * tokens after a 32-token prompt. The two modes alternate, round by round, so that a machine whose
 * load changes during the run slows both alike. Runs only when asked:
 * {@code PEFT4J_BENCH=1 mvn -B -q -pl runtime -am test -Dtest=GenerationSpeedSpec -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Requires({ env.PEFT4J_BENCH })
class GenerationSpeedSpec extends Specification {

    static final int PROMPT = 32, NEW_TOKENS = 128, ROUNDS = 3

    NDManager m = Backend.get().manager()

    static double median(List<Double> xs) {
        def s = xs.sort(false)
        s.size() % 2 == 1 ? s[s.size().intdiv(2)] : (s[s.size().intdiv(2) - 1] + s[s.size().intdiv(2)]) / 2
    }

    def "greedy generation with the KV cache is faster than re-reading the sequence, and picks the same tokens"() {
        given: 'H 256, 6 layers, 8 heads (8 kv heads), SwiGLU 1024, vocab 8000 tied; N(0, 0.02) weights'
        def config = DecoderConfig.llama(256, 1024, 6, 8, 8, 32, 1e-5, 10000, 8000, 512, true)
        def lm = new DecoderForCausalLM(m, config)
        Backend.get().seed(1)
        lm.namedParameters().findAll { !it.key.contains('norm') }.each { name, p ->
            p.set(m.randomNormal(0, 0.02f, p.value().shape, DataType.FLOAT32))
        }
        def random = new Random(1)
        int[] prompt = (0..<PROMPT).collect { random.nextInt(8000) } as int[]
        def gen = new Generator(lm, m)
        def cachedConfig = GenerationConfig.greedy(NEW_TOKENS)
        def uncachedConfig = GenerationConfig.greedy(NEW_TOKENS).withCache(false)

        when: 'a warm-up of each, then the two modes alternating'
        gen.generate(prompt, GenerationConfig.greedy(8))
        gen.generate(prompt, GenerationConfig.greedy(8).withCache(false))
        List<Generation> cached = []
        List<Generation> uncached = []
        ROUNDS.times {
            cached << gen.generate(prompt, cachedConfig)
            uncached << gen.generate(prompt, uncachedConfig)
        }
        printf('%nLlama %,d parameters, %s; %d-token prompt, %d new tokens, %d alternating rounds%n',
                lm.parameterCount(), Backend.get().describe(), PROMPT, NEW_TOKENS, ROUNDS)
        [['KV cache', cached], ['no cache', uncached]].each { String name, List<Generation> gs ->
            printf('%-9s tokens/s %s (median %.1f); first token after %s s (median %.3f)%n', name,
                    gs.collect { String.format(Locale.ROOT, '%.1f', it.tokensPerSecond()) },
                    median(gs*.tokensPerSecond()),
                    gs.collect { String.format(Locale.ROOT, '%.3f', it.firstTokenSeconds()) },
                    median(gs*.firstTokenSeconds()))
        }

        then:
        (cached + uncached).every { it.ids() == cached[0].ids() && it.ids().length == NEW_TOKENS }
        median(cached*.tokensPerSecond()) > median(uncached*.tokensPerSecond())
    }
}
