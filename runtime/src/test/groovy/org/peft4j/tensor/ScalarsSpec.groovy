package org.peft4j.tensor

import ai.djl.engine.Engine
import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import spock.lang.Specification

import java.nio.ByteBuffer
import java.nio.ByteOrder

class ScalarsSpec extends Specification {

    NDManager m = Backend.get().manager()

    /** Frees unreachable direct buffers and fills fresh ones with NaN, so freed memory no longer holds what it held. */
    static void collectAndScribble() {
        3.times {
            System.gc()
            Thread.sleep(20)
        }
        List<ByteBuffer> keep = []
        200.times {
            ByteBuffer b = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder())
            while (b.remaining() >= 4) {
                b.putFloat(Float.NaN)
            }
            keep << b
        }
    }

    def "#op keeps its factor alive for backward across a garbage collection"() {
        given:
        NDArray w = m.create([1f, 2f, 3f] as float[])
        w.setRequiresGradient(true)

        when: 'the graph is built, the collector runs, then backward reads the saved factor'
        try (def scope = new StepScope(); def gc = Engine.instance.newGradientCollector()) {
            NDArray y = f(w).sum()
            collectAndScribble()
            gc.backward(y)
        }
        float[] g = w.getGradient().toFloatArray()

        then: 'd/dw of sum(w·4) is 4, of sum(w/4) is 1/4, of sum(w^2) is 2w'
        g == expected as float[]

        cleanup:
        w.close()

        where:
        op     | f                             || expected
        'mul'  | { x -> Scalars.mul(x, 4) }    || [4f, 4f, 4f]
        'div'  | { x -> Scalars.div(x, 4) }    || [0.25f, 0.25f, 0.25f]
        'pow'  | { x -> Scalars.pow(x, 2) }    || [2f, 4f, 6f]
        'muli' | { x -> Scalars.muli(x.add(x.zerosLike()), 4) } || [4f, 4f, 4f]
    }

    def "the scalar takes the array's dtype"() {
        expect:
        try (def s = new StepScope()) {
            Scalars.mul(m.ones(new Shape(2), DataType.FLOAT64), 0.1).dataType == DataType.FLOAT64
        }
    }
}
