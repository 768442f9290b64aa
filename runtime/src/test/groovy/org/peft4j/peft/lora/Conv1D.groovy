package org.peft4j.peft.lora

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import org.peft4j.nn.LinearLayer
import org.peft4j.nn.Module
import org.peft4j.nn.Parameter

/** GPT-2's Conv1D as a test double: y = x W + b with W stored [in, out]. */
class Conv1D extends Module implements LinearLayer {

    final long inF
    final long outF

    Conv1D(NDManager m, long inF, long outF) {
        this.inF = inF
        this.outF = outF
        addParameter('weight', new Parameter(m.randomNormal(0f, 0.3f, new Shape(inF, outF), DataType.FLOAT32)))
        addParameter('bias', new Parameter(m.randomNormal(0f, 0.1f, new Shape(outF), DataType.FLOAT32)))
    }

    NDArray forward(NDArray x) {
        x.matMul(parameters().weight.value()).add(parameters().bias.value())
    }

    boolean fanInFanOut() { true }

    long inFeatures() { inF }

    long outFeatures() { outF }
}
