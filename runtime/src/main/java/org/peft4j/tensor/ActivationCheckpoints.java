package org.peft4j.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Activation checkpointing (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost"): a
 * layer run through {@link #run} keeps only its input and output during the forward pass, and is run
 * again, with a graph, when backward reaches it. A step then holds one layer's activations at a time
 * instead of every layer's, for about one more forward pass of compute.
 *
 * <p>The engine has no custom autograd functions, so backward is driven here, per micro-batch:
 * <ol>
 *   <li>{@link #open()} before the forward pass; layers call {@link #run} (outside an open tape it is
 *       a plain call, so evaluation and models without checkpointing are untouched);</li>
 *   <li>forward and {@code backward(loss)} as usual: that stops at the last checkpointed output, a
 *       leaf that collects its gradient;</li>
 *   <li>{@link #backward()} inside the same gradient collector: newest layer first, re-run it with a
 *       graph from its saved input and push the output's gradient through it
 *       ({@code backward(out, grad)}); the gradient reaching its input is the previous layer's.</li>
 * </ol>
 * Parameter gradients accumulate exactly as without checkpointing. Dropout inside a layer draws the
 * same masks in both runs: each layer runs under a seed of its own, drawn from the engine's generator
 * when the tape opens, so a seeded step stays reproducible.
 */
public final class ActivationCheckpoints implements AutoCloseable {

    private static final ThreadLocal<ActivationCheckpoints> CURRENT = new ThreadLocal<>();

    private record Segment(UnaryOperator<NDArray> layer, NDArray input, boolean inputOnGraph, long seed,
                           NDArray output) {
    }

    private final Deque<Segment> segments = new ArrayDeque<>();
    private final Set<NDArray> outputs = Collections.newSetFromMap(new IdentityHashMap<>());
    private final boolean verify;
    private final ActivationCheckpoints previous;
    private long baseSeed;
    private boolean seeded;

    private ActivationCheckpoints(boolean verify) {
        this.verify = verify;
        this.previous = CURRENT.get();
    }

    /** Starts recording this thread's checkpointed layers, for one forward and backward pass. */
    public static ActivationCheckpoints open() {
        return open(false);
    }

    /**
     * As {@link #open()}; with {@code verify}, {@link #backward()} also checks that every re-run
     * reproduced its layer's output (same dropout masks), and fails if not.
     */
    public static ActivationCheckpoints open(boolean verify) {
        ActivationCheckpoints tape = new ActivationCheckpoints(verify);
        CURRENT.set(tape);
        return tape;
    }

    /**
     * {@code layer.apply(input)}, checkpointed when a tape is open on this thread and a graph is being
     * recorded. {@code layer} must be a pure function of its input and the model's parameters (other
     * tensors it reads, like an attention mask, must stay unchanged until {@link #backward()}).
     *
     * @param inputOnGraph whether {@code input} was computed from trainable parameters (trainable
     *                     embeddings below the first layer), so that its gradient must be passed on;
     *                     the engine cannot tell that of an array. Ignored when {@code input} is the
     *                     output of a checkpointed layer.
     */
    public static NDArray run(UnaryOperator<NDArray> layer, NDArray input, boolean inputOnGraph) {
        return run(layer, input, inputOnGraph, false);
    }

    /**
     * As {@link #run(UnaryOperator, NDArray, boolean)} for one layer of a stack; the stack's
     * {@code last} layer is always a plain call: backward needs its activations first, so re-running
     * it would keep nothing less alive and only cost another forward pass.
     */
    public static NDArray run(UnaryOperator<NDArray> layer, NDArray input, boolean inputOnGraph, boolean last) {
        ActivationCheckpoints tape = CURRENT.get();
        if (last || tape == null || !Backend.get().gradMode()) {
            return layer.apply(input);
        }
        return tape.record(layer, input, inputOnGraph);
    }

    /** How many layers are waiting for {@link #backward()}. */
    public int pending() {
        return segments.size();
    }

    private NDArray record(UnaryOperator<NDArray> layer, NDArray input, boolean inputOnGraph) {
        long seed = nextSeed(input);
        NDArray out;
        Backend.get().setGradMode(false);
        try {
            Backend.get().seed(seed);
            out = layer.apply(input);
        } finally {
            Backend.get().setGradMode(true);
        }
        // a leaf: backward of the loss stops here and leaves the layer's output gradient in it
        out.setRequiresGradient(true);
        segments.push(new Segment(layer, input, inputOnGraph && !outputs.contains(input), seed, out));
        outputs.add(out);
        return out;
    }

    private long nextSeed(NDArray like) {
        if (!seeded) {
            // one draw per tape from the engine's generator (seeded per step by the trainer)
            try (NDArray r = like.getManager().randomInteger(0, Integer.MAX_VALUE, new Shape(1), DataType.INT64)) {
                baseSeed = r.getLong(0);
            }
            seeded = true;
        }
        return baseSeed * 1_000_003L + segments.size();
    }

    /**
     * Back-propagates through every recorded layer, newest first. Call inside the gradient collector,
     * right after backward of the loss; parameter gradients accumulate as usual.
     */
    public void backward() {
        while (!segments.isEmpty()) {
            Segment s = segments.pop();
            NDArray grad = gradientOf(s.output());
            if (grad == null) {
                // the loss does not depend on this layer's output: nothing flows below it either
                continue;
            }
            try (NDScope scope = new NDScope()) {
                NDArray in = s.input();
                NDArray detached = null;
                if (s.inputOnGraph()) {
                    // the input hangs on a graph of its own (trainable embeddings): collect its gradient, then pass it on
                    detached = in.stopGradient();
                    detached.setRequiresGradient(true);
                    in = detached;
                }
                Backend.get().seed(s.seed());
                NDArray again = s.layer().apply(in);
                if (verify) {
                    requireSame(again, s.output());
                }
                if (!Backend.get().backward(again, grad)) {
                    // nothing trainable in or below this layer
                    continue;
                }
                if (detached != null) {
                    NDArray g = gradientOf(detached);
                    if (g != null) {
                        Backend.get().backward(s.input(), g);
                    }
                }
            }
        }
    }

    private static NDArray gradientOf(NDArray leaf) {
        return Backend.get().gradient(leaf);
    }

    private static void requireSame(NDArray again, NDArray first) {
        try (NDArray a = again.stopGradient(); NDArray diff = a.sub(first).abs().max()) {
            float d = diff.getFloat();
            if (!(d == 0f)) {
                throw new IllegalStateException("a checkpointed layer's re-run differs from its first run by " + d
                        + " (max |Δ|): the layer is not a pure function of its input (an unseeded random op, or a"
                        + " tensor it reads changed between forward and backward)");
            }
        }
    }

    /** Stops recording; layers not back-propagated are dropped (their tensors belong to the step's scope). */
    @Override
    public void close() {
        segments.clear();
        outputs.clear();
        if (previous == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(previous);
        }
    }
}
