package org.peft4j.nn;

import java.util.List;

/**
 * Children named {@code 0, 1, 2, ...}, like PyTorch's {@code nn.ModuleList}, so a stack of blocks
 * has Hugging Face paths such as {@code encoder.layer.3.attention.self.query.weight}.
 */
public final class ModuleList<M extends Module> extends Module {

    private final int size;

    public ModuleList(List<M> modules) {
        this.size = modules.size();
        for (int i = 0; i < size; i++) {
            addChild(Integer.toString(i), modules.get(i));
        }
    }

    public int size() {
        return size;
    }

    /**
     * The i-th module, looked up by name at call time so that a replaced child is the one used.
     * The cast is unchecked: a replacement must be usable as an {@code M}.
     */
    @SuppressWarnings("unchecked")
    public M get(int i) {
        return (M) child(Integer.toString(i));
    }
}
