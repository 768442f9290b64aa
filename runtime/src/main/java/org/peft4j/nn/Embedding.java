package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.tensor.Functional;

/** A lookup table [num, dim]; rows are gathered by integer ids. */
public final class Embedding extends Module {

    public Embedding(NDManager manager, long num, long dim) {
        addParameter("weight", new Parameter(manager.zeros(new Shape(num, dim), DataType.FLOAT32)));
    }

    public Parameter weight() {
        return parameters().get("weight");
    }

    public NDArray forward(NDArray ids) {
        return Functional.embedding(ids, weight().value());
    }
}
