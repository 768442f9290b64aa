package org.peft4j.models.llama

import ai.djl.engine.Engine
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import org.peft4j.generate.GenerationConfig
import org.peft4j.models.core.DecoderConfig
import org.peft4j.models.core.DecoderForCausalLM
import org.peft4j.generate.Generator
import org.peft4j.models.CausalLmLoss
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.train.AdamW
import spock.lang.Requires
import spock.lang.Specification

/**
 * Measures LoRA training and generation speed of a ~5M-parameter random Llama on this machine.
 * Runs only when asked: {@code PEFT4J_BENCH=1 mvn -B -q -pl runtime test -Dtest=LlamaThroughputSpec}.
 */
@Requires({ env.PEFT4J_BENCH })
class LlamaThroughputSpec extends Specification {

    NDManager m = Backend.get().manager()

    def "a 5M-parameter Llama trains LoRA and generates at a measured speed"() {
        given: "H 256, 4 layers, 8 heads / 4 kv heads, SwiGLU 688, vocab 8000, tied embeddings; N(0, 0.02) weights"
        def config = DecoderConfig.llama(256, 688, 4, 8, 4, 32, 1e-5, 10000, 8000, 512, true)
        def lm = new DecoderForCausalLM(m, config)
        lm.namedParameters().findAll { !it.key.contains('norm') }.each { name, p ->
            p.set(m.randomNormal(0, 0.02f, p.value().shape, DataType.FLOAT32))
        }
        long params = lm.parameterCount()
        def lora = LoraInjector.inject(lm, LoraConfig.of(8, 16, 0, ['q_proj', 'v_proj'], []), m)
        def opt = new AdamW(lora.adapterParameters().values() as List, 0.9, 0.999, 1e-8, 0)
        int B = 8, T = 128, warm = 2, steps = 8
        def random = new Random(1)
        def step = {
            try (def s = new StepScope()) {
                long[][] ids = (0..<B).collect { (0..<T).collect { random.nextInt(8000) as long } as long[] } as long[][]
                def x = m.create(ids)
                try (def gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(CausalLmLoss.loss(lm.forward(x, null), x))
                }
                opt.step(1e-3)
                opt.zeroGrad()
            }
        }

        when: "a 1024³ matmul first, to show what the engine gets from this machine right now"
        double gflops
        try (def s = new StepScope()) {
            def a = m.randomNormal(new ai.djl.ndarray.types.Shape(1024, 1024))
            a.matMul(a).toFloatArray()
            long g0 = System.nanoTime()
            5.times { a.matMul(a).getFloat(0, 0) }
            gflops = 5 * 2.0 * 1024 * 1024 * 1024 / (System.nanoTime() - g0)
        }
        double forwardSeconds
        try (def s = new StepScope()) {
            def x = m.create((0..<B).collect { (0..<T).collect { random.nextInt(8000) as long } as long[] } as long[][])
            lm.forward(x, null).getFloat(0, 0, 0)
            long f0 = System.nanoTime()
            3.times { lm.forward(x, null).getFloat(0, 0, 0) }
            forwardSeconds = (System.nanoTime() - f0) / 3e9
        }
        warm.times { step() }
        long t0 = System.nanoTime()
        steps.times { step() }
        double trainSeconds = (System.nanoTime() - t0) / 1e9
        double trainTps = steps * B * T / trainSeconds

        def gen = new Generator(lm, m)
        int[] prompt = (0..<16).collect { random.nextInt(8000) } as int[]
        gen.generate(prompt, GenerationConfig.greedy(8))   // warm-up
        def cached = gen.generate(prompt, GenerationConfig.greedy(128))
        def uncached = gen.generate(prompt, GenerationConfig.greedy(128).withCache(false))
        printf('%nLlama %,d parameters, %s%n', params, Backend.get().describe())
        printf('engine matmul 1024^3: %.1f GFLOP/s; inference forward %d x %d: %.3f s (%.0f tokens/s)%n', gflops, B, T,
                forwardSeconds, B * T / forwardSeconds)
        printf('LoRA r=8 q_proj,v_proj training, batch %d x %d tokens: %.0f tokens/s (%.3f s/step)%n', B, T, trainTps,
                trainSeconds / steps)
        printf('greedy generation, 16-token prompt, 128 new tokens: %.1f tokens/s with KV cache, %.1f without%n',
                cached.tokensPerSecond(), uncached.tokensPerSecond())

        then:
        cached.ids() == uncached.ids()

        cleanup:
        opt?.close()
    }
}
