package org.peft4j.peft;

import ai.djl.ndarray.NDArray;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;

import java.util.Map;

/**
 * A layer that holds a frozen linear-like base layer and an update ΔW beside it, as PEFT's
 * {@code BaseTunerLayer}: the base stays untouched until {@link #merge()}, the update's parameters
 * are declared by the layer (never found by name), and merging is explicit and reversible.
 */
public interface AdapterLayer extends LinearLayer {

    /** The wrapped layer, whatever its class; it becomes the plain layer again on unload. */
    Module baseLayer();

    /** The parameters of the active update, by their names inside this layer (PEFT's state-dict suffixes). */
    Map<String, Parameter> adapterParameters();

    /** The rank of the stored update (rows of its A factor); 0 when the update is empty. */
    int rank();

    /** ΔW of the active update in PyTorch's [out, in] layout, whatever layout the base stores. */
    NDArray delta();

    /** Folds ΔW into the base weight; refuses, and leaves the layer unmerged, when the result is not finite. */
    void merge();

    /** Takes ΔW out of the base weight again (up to float rounding). */
    void unmerge();

    boolean isMerged();
}
