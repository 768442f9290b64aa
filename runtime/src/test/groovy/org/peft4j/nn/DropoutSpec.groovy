package org.peft4j.nn

import ai.djl.engine.Engine
import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import spock.lang.Specification

class DropoutSpec extends Specification {

    NDManager m = Backend.get().manager()

    def "in evaluation, or with p = 0, dropout is the identity and adds no op"() {
        given:
        def x = m.randomNormal(new Shape(4, 5))
        def eval = new Dropout(0.3f)
        eval.train(false)
        def none = new Dropout(0f)
        none.train(true)

        expect:
        eval.forward(x).is(x)
        none.forward(x).is(x)
    }

    def "each element is kept with probability 1 - p and scaled by 1 / (1 - p); the rest are zero"() {
        given:
        float p = 0.1f
        int n = 1_000_000
        def x = m.randomUniform(1f, 2f, new Shape(n))
        Backend.get().seed(3)

        when:
        float[] out = Dropout.apply(x, p).toFloatArray()
        float[] in = x.toFloatArray()
        int kept = 0
        double worst = 0
        for (int i = 0; i < n; i++) {
            if (out[i] != 0f) {
                kept++
                worst = Math.max(worst, Math.abs(out[i] - in[i] / (1 - p)))
            }
        }
        double sd = Math.sqrt(n * p * (1 - p))

        then: 'within 5 standard deviations of the binomial mean, and every kept value exact to float rounding'
        Math.abs(kept - n * (1 - p)) < 5 * sd
        worst < 1e-6
    }

    def "neighbouring elements are dropped independently"() {
        given: 'pairs (2i, 2i+1): both dropped should happen with probability p², not p'
        float p = 0.5f
        int n = 400_000
        Backend.get().seed(4)

        when:
        float[] out = Dropout.apply(m.ones(new Shape(n)), p).toFloatArray()
        int both = 0
        for (int i = 0; i < n; i += 2) {
            if (out[i] == 0f && out[i + 1] == 0f) {
                both++
            }
        }
        int pairs = n / 2
        double sd = Math.sqrt(pairs * 0.25 * 0.75)

        then:
        Math.abs(both - pairs * 0.25) < 5 * sd
    }

    def "the gradient is the same mask and scale: d sum(dropout(x)) / dx = 1/(1-p) where kept, 0 where dropped"() {
        given:
        float p = 0.25f
        def x = m.randomUniform(1f, 2f, new Shape(1000))
        x.setRequiresGradient(true)
        float[] out

        when:
        try (def scope = new StepScope(); def gc = Engine.instance.newGradientCollector()) {
            def y = Dropout.apply(x, p)
            out = y.toFloatArray()
            gc.backward(y.sum())
        }
        float[] g = x.getGradient().toFloatArray()

        then:
        (0..<1000).every { i -> g[i] == (out[i] == 0f ? 0f : (float) (1 / (1 - p))) }
        g.any { it == 0f } && g.any { it != 0f }

        cleanup:
        x.close()
    }

    def "the masks follow the engine's seed"() {
        given:
        def x = m.ones(new Shape(256))

        when:
        Backend.get().seed(9)
        float[] a = Dropout.apply(x, 0.5f).toFloatArray()
        Backend.get().seed(9)
        float[] b = Dropout.apply(x, 0.5f).toFloatArray()
        float[] c = Dropout.apply(x, 0.5f).toFloatArray()

        then:
        a == b
        a != c
    }

    def "float64 inputs keep their dtype"() {
        expect:
        Dropout.apply(m.ones(new Shape(10), DataType.FLOAT64), 0.5f).dataType == DataType.FLOAT64
    }
}
