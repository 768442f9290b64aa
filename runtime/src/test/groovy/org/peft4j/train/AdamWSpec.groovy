package org.peft4j.train

import ai.djl.engine.Engine
import org.peft4j.nn.Parameter
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import spock.lang.Specification

class AdamWSpec extends Specification {

    def manager = Backend.get().manager()

    def "two AdamW steps move a weight exactly as Algorithm 2 of Loshchilov and Hutter says"() {
        given: 'loss = sum(c · w), so the gradient is c at every step'
        double[] w0 = [0.5, -1.0, 2.0]
        double[] c = [0.3, -0.2, 1.5]
        def p = new Parameter(manager.create(w0 as float[]))
        p.setTrainable(true)
        def opt = new AdamW([p], 0.9, 0.999, 1e-8, 0.1)
        double lr = 0.01

        when:
        2.times {
            try (def s = new StepScope()) {
                def gc = Engine.instance.newGradientCollector()
                gc.backward(p.value().mul(manager.create(c as float[])).sum())
                gc.close()
                opt.step(lr)
                opt.zeroGrad()
            }
        }

        then: 'the same update written out in doubles'
        double[] w = w0.clone(), m = new double[3], v = new double[3]
        (1..2).each { t ->
            (0..2).each { i ->
                m[i] = 0.9 * m[i] + 0.1 * c[i]
                v[i] = 0.999 * v[i] + 0.001 * c[i] * c[i]
                double mh = m[i] / (1 - 0.9**t), vh = v[i] / (1 - 0.999**t)
                w[i] = w[i] - lr * 0.1 * w[i] - lr * mh / (Math.sqrt(vh) + 1e-8)
            }
        }
        def got = p.value().toFloatArray()
        (0..2).every { Math.abs(got[it] - w[it]) < 1e-6 }
    }

    def "gradients accumulate until zeroed"() {
        given:
        def p = new Parameter(manager.create([1f, 2f, 3f] as float[]))
        p.setTrainable(true)

        when:
        2.times {
            try (def s = new StepScope()) {
                def gc = Engine.instance.newGradientCollector()
                gc.backward(p.value().mul(manager.create([1f, 2f, 3f] as float[])).sum())
                gc.close()
            }
        }

        then:
        p.value().gradient.toFloatArray() == [2f, 4f, 6f] as float[]

        when:
        p.zeroGrad()

        then:
        p.value().gradient.toFloatArray() == [0f, 0f, 0f] as float[]
    }

    def "global-norm clipping scales all gradients by max / norm when the norm is larger"() {
        given: 'gradients (3, 4) and (12): global norm 13'
        def a = new Parameter(manager.create([0f, 0f] as float[]))
        def b = new Parameter(manager.create([0f] as float[]))
        [a, b]*.setTrainable(true)
        try (def s = new StepScope()) {
            def gc = Engine.instance.newGradientCollector()
            gc.backward(a.value().mul(manager.create([3f, 4f] as float[])).sum().add(b.value().mul(12f).sum()))
            gc.close()
        }

        when:
        double norm = GradientClipping.clip([a, b], 6.5)

        then:
        Math.abs(norm - 13) < 1e-5
        a.value().gradient.toFloatArray().collect { Math.round(it * 1000) / 1000 } == [1.5, 2.0]
        Math.abs(b.value().gradient.toFloatArray()[0] - 6.0) < 1e-3
    }
}
