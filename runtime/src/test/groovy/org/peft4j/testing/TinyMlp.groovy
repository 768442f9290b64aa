package org.peft4j.testing

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.Shape
import org.peft4j.nn.Linear
import org.peft4j.nn.Module

/** A 10→20→2 MLP with a classifier head: enough to show adapter behaviour. */
class TinyMlp extends Module {

    TinyMlp(NDManager manager) {
        def fc1 = addChild('fc1', new Linear(manager, 10, 20, true))
        def fc2 = addChild('fc2', new Linear(manager, 20, 20, true))
        def head = addChild('classifier', new Linear(manager, 20, 2, true))
        [fc1, fc2, head].each { Linear l ->
            l.weight().set(manager.randomNormal(0f, 0.3f, l.weight().value().shape, l.weight().value().dataType))
            l.bias().set(manager.randomNormal(0f, 0.1f, l.bias().value().shape, l.bias().value().dataType))
        }
    }

    NDArray forward(NDArray x) {
        def h = linear('fc1').forward(x).getNDArrayInternal().relu()
        h = linear('fc2').forward(h).getNDArrayInternal().relu()
        linear('classifier').forward(h)
    }

    /** Parameter values copied to Java arrays, by path. */
    Map<String, float[]> snapshot() {
        namedParameters().collectEntries { k, v -> [k, v.value().toFloatArray()] }
    }
}
