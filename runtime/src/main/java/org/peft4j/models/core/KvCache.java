package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;

/**
 * The keys and values of the tokens seen so far, per layer, so that a decoding step attends over
 * the past without recomputing it. Each layer's arrays are (B, nkv, S, hs); a step appends its
 * own T positions along S. The arrays outlive the step scopes they are made in, and this cache
 * frees them on {@link #close()}. For inference only: nothing here keeps an autograd graph.
 */
public final class KvCache implements AutoCloseable {

    private final NDArray[] keys;
    private final NDArray[] values;

    public KvCache(int layers) {
        keys = new NDArray[layers];
        values = new NDArray[layers];
    }

    /** S, the number of positions cached (those of layer 0, which every step fills first). */
    public long length() {
        return keys[0] == null ? 0 : keys[0].getShape().get(2);
    }

    /**
     * Appends a step's keys and values to layer {@code layer}'s and returns the whole sequence.
     *
     * @param k (B, nkv, T, hs) this step's keys
     * @param v (B, nkv, T, hs) this step's values
     * @return {k, v}, each (B, nkv, S + T, hs)
     */
    public NDList append(int layer, NDArray k, NDArray v) {
        NDArray allK = keys[layer] == null ? k.duplicate() : keys[layer].concat(k, 2);
        NDArray allV = values[layer] == null ? v.duplicate() : values[layer].concat(v, 2);
        // kept past the current step's scope; the previous arrays are replaced, so freed now
        NDScope.unregister(allK, allV);
        if (keys[layer] != null) {
            keys[layer].close();
            values[layer].close();
        }
        keys[layer] = allK;
        values[layer] = allV;
        return new NDList(allK, allV);
    }

    public int layers() {
        return keys.length;
    }

    @Override
    public void close() {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != null) {
                keys[i].close();
                values[i].close();
                keys[i] = null;
                values[i] = null;
            }
        }
    }
}
