package org.peft4j.embedding

import ai.djl.engine.Engine
import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import org.peft4j.nn.Parameter
import org.peft4j.tensor.Backend
import org.peft4j.train.TrainingException
import org.peft4j.train.TrainingListener
import spock.lang.AutoCleanup
import spock.lang.Specification

class NonFiniteGradientSkipSpec extends Specification {

    @AutoCleanup
    NDManager m = Backend.get().manager().newSubManager()

    Parameter w = param([1f, 2f, 3f] as float[])
    Parameter v = param([0.5f, -1f] as float[])
    List<String> phases = []
    TrainingListener listener = new TrainingListener() {
        @Override
        void onPhase(String message) { phases << message }
    }
    NonFiniteGradientSkip skip = new NonFiniteGradientSkip([w, v], listener)

    Parameter param(float[] values) {
        NDArray a = m.create(values)
        a.setRequiresGradient(true)
        Parameter p = new Parameter(a)
        p.setTrainable(true)
        p
    }

    /** d/dw Σ f(w) with the gradient collector, so the gradients are the engine's own. */
    void backward(Closure<NDArray> lossOfW) {
        try (def gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(lossOfW(w.value()).sum().add(v.value().mul(2f).sum()))
        }
    }

    def "finite gradients are left as they are: d(Σw²)/dw = 2w, d(Σ2v)/dv = 2"() {
        when:
        backward { NDArray x -> x.square() }
        skip.afterBackward(1)

        then:
        w.value().getGradient().toFloatArray() == [2f, 4f, 6f] as float[]
        v.value().getGradient().toFloatArray() == [2f, 2f] as float[]
        skip.skipped() == 0
        phases.isEmpty()
    }

    def "an infinite gradient in one parameter zeroes the gradients of all, and is counted and told"() {
        when: 'd(log w)/dw = 1/w is infinite at w = 0'
        w.value().set([0f, 2f, 4f] as float[])
        backward { NDArray x -> x.log() }
        float[] before = w.value().getGradient().toFloatArray()
        skip.afterBackward(7)

        then:
        Float.isInfinite(before[0])
        w.value().getGradient().toFloatArray() == [0f, 0f, 0f] as float[]
        v.value().getGradient().toFloatArray() == [0f, 0f] as float[]
        skip.skipped() == 1
        phases.size() == 1
        phases[0].startsWith('step 7: a gradient was non-finite')
    }

    def "more than three non-finite steps in a row end the run; a finite step in between resets the count"() {
        given: 'gradients attached by one backward pass, then written directly'
        backward { NDArray x -> x.square() }

        when: 'three bad steps, a good one, three bad ones'
        (1..3).each { badStep(it) }
        goodStep(4)
        (5..7).each { badStep(it) }

        then:
        skip.skipped() == 6

        when:
        badStep(8)

        then:
        TrainingException e = thrown()
        e.message.contains('non-finite in 4 steps in a row')
    }

    private void badStep(int step) {
        w.value().getGradient().set([Float.POSITIVE_INFINITY, 0f, 0f] as float[])
        skip.afterBackward(step)
    }

    private void goodStep(int step) {
        w.value().getGradient().set([1f, 1f, 1f] as float[])
        v.value().getGradient().set([1f, 1f] as float[])
        skip.afterBackward(step)
    }
}
