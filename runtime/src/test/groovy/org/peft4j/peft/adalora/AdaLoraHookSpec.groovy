package org.peft4j.peft.adalora

import ai.djl.engine.Engine
import ai.djl.ndarray.NDArray
import ai.djl.ndarray.index.NDIndex
import ai.djl.ndarray.types.Shape
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.TinyMlp
import spock.lang.Specification

class AdaLoraHookSpec extends Specification {

    def manager = Backend.get().manager()

    def setup() {
        Backend.get().seed(3)
    }

    static AdaLoraConfig config() {
        AdaLoraConfig.builder().initR(4).targetR(2).tinit(1).tfinal(2).deltaT(1).orthReg(0.1)
                .targets(['fc1', 'fc2']).build()
    }

    /** One optimizer step's backward passes, as Trainer does them: each micro-batch loss divided by k. */
    void accumulate(TinyMlp model, AdaLoraHook hook, NDArray x, int k) {
        long rows = x.shape.get(0) / k
        (0..<k).each { i ->
            try (def scope = new StepScope(); def gc = Engine.instance.newGradientCollector()) {
                def xi = x.get(new NDIndex("${i * rows}:${(i + 1) * rows}"))
                def loss = model.forward(xi).square().mean().add(hook.extraLoss())
                gc.backward(k == 1 ? loss : loss.div(k))
            }
        }
    }

    def "with gradient accumulation k = #k the importance is updated once per step and equals one big batch's"() {
        given: 'two identical models, one trained with one batch of 8, one with k micro-batches'
        Backend.get().seed(5)
        def big = new TinyMlp(manager)
        def adaBig = AdaLoraInjector.inject(big, config(), manager)
        Backend.get().seed(5)
        def small = new TinyMlp(manager)
        def adaSmall = AdaLoraInjector.inject(small, config(), manager)
        [adaBig, adaSmall].each { ada ->
            Backend.get().seed(9)
            ada.layers().values().each { it.loraE().set(manager.randomNormal(0f, 1f, new Shape(4, 1), it.loraE().value().dataType)) }
        }
        def hookBig = adaBig.hook(10)
        def hookSmall = adaSmall.hook(10)
        def xs = (1..3).collect { manager.randomNormal(new Shape(8, 10)) }

        when:
        xs.eachWithIndex { x, i ->
            int step = i + 1
            accumulate(big, hookBig, x, 1)
            hookBig.afterBackward(step)
            accumulate(small, hookSmall, x, k)
            hookSmall.afterBackward(step)
            [adaBig, adaSmall].each { a -> a.adapterParameters().values().each { it.zeroGrad() } }
        }

        then:
        hookSmall.allocator().updates() == 3
        adaBig.adapterParameters().keySet().every { p ->
            close(hookSmall.allocator().smoothedSensitivity(p).toFloatArray(), hookBig.allocator().smoothedSensitivity(p).toFloatArray()) &&
                    close(hookSmall.allocator().uncertainty(p).toFloatArray(), hookBig.allocator().uncertainty(p).toFloatArray())
        }

        when: 'a second update for the same optimizer step'
        hookSmall.afterBackward(3)

        then:
        def e = thrown(IllegalStateException)
        e.message.contains('once per optimizer step')

        where:
        k << [2, 4]
    }

    def "the extra loss is γ times the paper's penalty summed over the adapted layers"() {
        given:
        def model = new TinyMlp(manager)
        def ada = AdaLoraInjector.inject(model, config(), manager)
        def hook = ada.hook(10)
        def reg = new OrthogonalRegularizer(OrthRegKind.PAPER)

        expect:
        Math.abs(hook.extraLoss().getFloat() - 0.1f * ada.layers().values().sum { reg.penalty(it.loraB().value(), it.loraA().value()).getFloat() }) < 1e-4
    }

    def "totalSteps 0 takes the run's step count when the hook is made"() {
        given:
        def ada = AdaLoraInjector.inject(new TinyMlp(manager), config(), manager)

        when:
        ada.allocator()

        then:
        thrown(IllegalStateException)

        when:
        def hook = ada.hook(50)

        then:
        ada.config().totalSteps() == 50
        hook.allocator().schedule().maskDue(48)
        !hook.allocator().schedule().maskDue(49)
    }

    static boolean close(float[] a, float[] b) {
        (0..<a.length).every { Math.abs(a[it] - b[it]) <= 1e-6 + 1e-3 * Math.abs(b[it]) }
    }
}
