package org.peft4j.peft.lora

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import org.peft4j.nn.Linear
import org.peft4j.nn.Module

/** A module built by hand in a test, so any Hugging Face–style path (encoder.layer.0.dense) can be made. */
class Tree extends Module {

    /** Puts {@code child} at the dotted {@code path}, making the containers on the way. */
    Tree put(String path, Module child) {
        def parts = path.split('\\.')
        Tree node = this
        parts[0..<-1].each { p -> node = node.children().containsKey(p) ? (Tree) node.child(p) : node.addChild(p, new Tree()) }
        node.addChild(parts[-1], child)
        this
    }

    /** Runs the linears at {@code paths} one after another (relu between), by looking each up now. */
    NDArray chain(NDArray x, List<String> paths) {
        def h = x
        paths.eachWithIndex { p, i ->
            h = ((org.peft4j.nn.LinearLayer) module(p)).forward(h)
            if (i < paths.size() - 1) {
                h = h.getNDArrayInternal().relu()
            }
        }
        h
    }

    static Linear linear(NDManager m, long inF, long outF, float[][] w, float[] b) {
        def l = new Linear(m, inF, outF, b != null)
        l.weight().set(m.create(w))
        if (b != null) {
            l.bias().set(m.create(b))
        }
        l
    }

    static Linear randomLinear(NDManager m, long inF, long outF) {
        def l = new Linear(m, inF, outF, true)
        l.weight().set(m.randomNormal(0f, 0.3f, l.weight().value().shape, l.weight().value().dataType))
        l.bias().set(m.randomNormal(0f, 0.1f, l.bias().value().shape, l.bias().value().dataType))
        l
    }
}
