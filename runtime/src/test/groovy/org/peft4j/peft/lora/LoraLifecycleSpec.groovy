package org.peft4j.peft.lora

import ai.djl.ndarray.types.Shape
import org.peft4j.nn.Linear
import org.peft4j.tensor.Backend
import org.peft4j.testing.TinyMlp
import spock.lang.Specification

class LoraLifecycleSpec extends Specification {

    def manager = Backend.get().manager()
    def x

    def setup() {
        Backend.get().seed(13)
        x = manager.randomNormal(new Shape(5, 10))
    }

    void randomizeB(LoraModel lora) {
        lora.layers().values().each {
            it.loraB().weight().set(manager.randomNormal(0f, 0.3f, it.loraB().weight().value().shape, it.loraB().weight().value().dataType))
        }
    }

    def "mergeAndUnload returns the plain model with the adapter folded in (dora=#dora)"() {
        given:
        def model = new TinyMlp(manager)
        def lora = LoraInjector.inject(model, LoraConfig.builder().r(4).alpha(8).allLinear().useDora(dora).build(), manager)
        randomizeB(lora)
        def adapted = model.forward(x).toFloatArray()

        when:
        def plain = lora.mergeAndUnload()

        then:
        plain.is(model)
        !plain.namedModules().values().any { it instanceof LoraLinear }
        plain.namedParameters().keySet() == ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'classifier.weight', 'classifier.bias'] as Set
        model.linear('fc1') instanceof Linear
        LoraLinearSpec.maxRelDiff(model.forward(x).toFloatArray(), adapted) < 1e-5

        when:
        lora.merge()

        then:
        thrown(IllegalStateException)

        where:
        dora << [false, true]
    }

    def "two named adapters live on one model and setAdapter switches between them"() {
        given: 'the default adapter on fc1 and fc2, a second one on fc2 only'
        def model = new TinyMlp(manager)
        def base = model.forward(x).toFloatArray()
        def lora = LoraInjector.inject(model, LoraConfig.of(4, 8, 0.0, ['fc1', 'fc2'], []), manager)
        randomizeB(lora)
        def first = model.forward(x).toFloatArray()

        when:
        lora.addAdapter('second', LoraConfig.builder().r(2).alpha(2).targets('fc2').useDora(true).build())

        then: 'adding does not change what runs'
        lora.activeAdapter() == 'default'
        model.forward(x).toFloatArray() == first

        when:
        lora.setAdapter('second')
        def secondFresh = model.forward(x).toFloatArray()
        randomizeB(lora)
        def second = model.forward(x).toFloatArray()

        then: 'a fresh second adapter is a no-op on the base model; fc1 runs plain while second is active'
        LoraLinearSpec.maxRelDiff(secondFresh, base) < 1e-6
        LoraLinearSpec.maxRelDiff(second, base) > 1e-3
        lora.adaptedPaths() == ['fc2']
        lora.adapterParameters().keySet() == ['fc2.lora_A.weight', 'fc2.lora_B.weight', 'fc2.lora_magnitude_vector'] as Set
        model.namedParameters().findAll { k, v -> v.trainable() }.keySet() == lora.adapterParameters().keySet()

        when:
        lora.setAdapter('default')

        then:
        model.forward(x).toFloatArray() == first
        lora.adaptedPaths() == ['fc1', 'fc2']

        when: 'the second adapter is deleted'
        lora.deleteAdapter('second')

        then:
        lora.adapterNames() == ['default'] as Set
        model.forward(x).toFloatArray() == first
        !model.namedParameters().keySet().any { it.contains('magnitude') }
    }

    def "disableAdapters runs its body on the base model and switches the adapters back on after"() {
        given:
        def model = new TinyMlp(manager)
        def base = model.forward(x).toFloatArray()
        def lora = LoraInjector.inject(model, LoraConfig.of(4, 8, 0.0, ['fc1', 'fc2'], []), manager)
        randomizeB(lora)
        def adapted = model.forward(x).toFloatArray()
        float[] inside = null

        when:
        lora.disableAdapters { inside = model.forward(x).toFloatArray() }

        then:
        inside == base
        model.forward(x).toFloatArray() == adapted

        when: 'the body throws'
        lora.disableAdapters { throw new IllegalStateException('boom') }

        then:
        thrown(IllegalStateException)
        model.forward(x).toFloatArray() == adapted

        when: 'the adapter is merged into the base weight'
        lora.merge()
        lora.disableAdapters { }

        then:
        def e = thrown(IllegalStateException)
        e.message.contains('unmerge() first')
    }

    def "the active adapter cannot be deleted, nor another one chosen while merged"() {
        given:
        def lora = LoraInjector.inject(new TinyMlp(manager), LoraConfig.of(2, 4, 0.0, ['fc1'], []), manager)
        lora.addAdapter('other', LoraConfig.of(2, 4, 0.0, ['fc2'], []))

        when:
        lora.deleteAdapter('default')

        then:
        def e = thrown(IllegalStateException)
        e.message.contains("cannot delete the active adapter 'default'")

        when:
        lora.merge()
        lora.setAdapter('other')

        then:
        e = thrown(IllegalStateException)
        e.message.contains('unmerge() first')
    }
}
