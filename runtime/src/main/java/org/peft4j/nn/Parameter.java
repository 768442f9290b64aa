package org.peft4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import org.peft4j.tensor.Backend;

/**
 * A named tensor owned by a {@link Module}. Whether it trains is a property of the parameter,
 * set by whoever freezes or unfreezes the model; the optimizer only sees trainable ones.
 */
public final class Parameter {

    private NDArray value;
    private boolean trainable;

    public Parameter(NDArray value) {
        this.value = value;
        // parameters outlive every step scope they may be created in
        NDScope.unregister(value);
    }

    public NDArray value() {
        return value;
    }

    /** Replaces the data (loading weights, merging). The old array is closed. */
    public void set(NDArray newValue) {
        if (!newValue.getShape().equals(value.getShape())) {
            throw new IllegalArgumentException("shape " + newValue.getShape() + " does not fit parameter of shape "
                    + value.getShape());
        }
        replace(newValue, value.getDataType());
    }

    /** Stores the value as {@code dtype} (a frozen weight kept in half precision, say); trainability is kept. */
    public void castTo(DataType dtype) {
        if (value.getDataType() != dtype) {
            replace(value, dtype);
        }
    }

    /** Adopts {@code newValue} as {@code dtype}, closing what it no longer needs: a cast's source and the old value. */
    private void replace(NDArray newValue, DataType dtype) {
        NDArray old = value;
        NDScope.unregister(newValue);
        NDArray adopted = newValue.toType(dtype, false);
        if (adopted != newValue) {
            // a cast made inside a step scope would otherwise be freed with the step
            NDScope.unregister(adopted);
            newValue.close();
        }
        value = adopted;
        if (trainable) {
            adopted.setRequiresGradient(true);
        }
        if (old != adopted && old != newValue) {
            old.close();
        }
    }

    public boolean trainable() {
        return trainable;
    }

    public void setTrainable(boolean trainable) {
        if (this.trainable != trainable) {
            this.trainable = trainable;
            value.setRequiresGradient(trainable);
        }
    }

    /** Zeroes the accumulated gradient in place; libtorch never does this on its own. */
    public void zeroGrad() {
        if (trainable) {
            Backend.get().zeroGradient(value);
        }
    }

    public long size() {
        return value.getShape().size();
    }
}
