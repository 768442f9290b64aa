package org.peft4j.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Dropout keep-masks drawn in Java, straight into a boolean tensor's memory. libtorch's CPU generator
 * is one serial Mersenne Twister (on a CPU where it does not use MKL's: any non-Intel one), so drawing a
 * mask costs a few nanoseconds per element on one core; here each element costs a quarter of a 64-bit
 * SplittableRandom draw and the mask's chunks are drawn on every core.
 *
 * <p>Each element is kept when its own 32-bit uniform draw u satisfies u ≥ p·2³², independently with
 * probability 1 − p to 2⁻³² (the float32 draw it replaces resolves 2⁻²⁴). Reproducible: {@link #seed}
 * (called with the engine's seed) fixes every later mask, however the chunks are scheduled, since chunk c
 * of the n-th mask draws from its own generator seeded by (seed, n, c).
 */
final class DropoutMasks {

    private static final int CHUNK = 1 << 20;

    private static long seed = 0x5DEECE66DL;
    private static long count;

    private DropoutMasks() {
    }

    /** Restarts the sequence of masks from {@code seed}. */
    static synchronized void seed(long s) {
        seed = s;
        count = 0;
    }

    private static synchronized long next() {
        return mix64(seed ^ mix64(++count));
    }

    /** A boolean mask of {@code shape} in {@code manager}: true (keep) with probability 1 − p. */
    static NDArray keep(NDManager manager, Shape shape, float p) {
        long n = shape.size();
        long maskSeed = next();
        long threshold = (long) Math.floor((double) p * 0x1p32);     // keep iff u >= threshold, u uniform on [0, 2^32)
        NDArray mask = manager.create(shape, DataType.BOOLEAN);
        try (Tensor t = TorchBridge.view(mask)) {
            BytePointer data = new BytePointer(t.data_ptr()).capacity(n);
            ByteBuffer buf = data.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            int chunks = (int) ((n + CHUNK - 1) / CHUNK);
            IntStream.range(0, chunks).parallel().forEach(c -> fill(buf, (long) c * CHUNK,
                    Math.min(n, (long) (c + 1) * CHUNK), new SplittableRandom(mix64(maskSeed + c)), threshold));
        }
        return mask;
    }

    /**
     * The same draw as {@link #keep} (the same elements kept for the same seed and count) as a 16-bit
     * array whose bits are bfloat16's 1 where kept and 0 where dropped: read through the bridge as
     * bfloat16 ({@code Tensor.view(BFloat16)}), it multiplies bfloat16 probabilities without the widening
     * copy a boolean mask costs in each product.
     */
    static NDArray keepBfloat16Bits(NDManager manager, Shape shape, float p) {
        long n = shape.size();
        long maskSeed = next();
        long threshold = (long) Math.floor((double) p * 0x1p32);
        NDArray mask = manager.create(shape, DataType.FLOAT16);
        try (Tensor t = TorchBridge.view(mask)) {
            BytePointer data = new BytePointer(t.data_ptr()).capacity(2 * n);
            ByteBuffer buf = data.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            int chunks = (int) ((n + CHUNK - 1) / CHUNK);
            IntStream.range(0, chunks).parallel().forEach(c -> fillBfloat16(buf, (long) c * CHUNK,
                    Math.min(n, (long) (c + 1) * CHUNK), new SplittableRandom(mix64(maskSeed + c)), threshold));
        }
        return mask;
    }

    private static final short BFLOAT16_ONE = 0x3F80;

    /** As {@link #fill}, the same draws in the same order, as bfloat16 1 or 0; 8 at a time as two words. */
    private static void fillBfloat16(ByteBuffer buf, long from, long to, SplittableRandom rnd, long threshold) {
        int i = (int) from;
        int end = (int) to;
        for (; i + 8 <= end; i += 8) {
            for (int half = 0; half < 2; half++) {
                long r0 = rnd.nextLong();
                long r1 = rnd.nextLong();
                long word = keepBit(r0 & 0xFFFFFFFFL, threshold) * BFLOAT16_ONE
                        | (keepBit(r0 >>> 32, threshold) * BFLOAT16_ONE) << 16
                        | (keepBit(r1 & 0xFFFFFFFFL, threshold) * BFLOAT16_ONE) << 32
                        | (keepBit(r1 >>> 32, threshold) * BFLOAT16_ONE) << 48;
                buf.putLong(2 * (i + 4 * half), word);
            }
        }
        for (; i < end; i++) {
            buf.putShort(2 * i, (short) (keepBit(rnd.nextLong() >>> 32, threshold) * BFLOAT16_ONE));
        }
    }

    /** Elements [from, to) of the mask; 8 at a time as one little-endian word of 0/1 bytes. */
    private static void fill(ByteBuffer buf, long from, long to, SplittableRandom rnd, long threshold) {
        int i = (int) from;
        int end = (int) to;
        for (; i + 8 <= end; i += 8) {
            long word = 0;
            for (int j = 0; j < 8; j += 2) {
                long r = rnd.nextLong();
                word |= keepBit(r & 0xFFFFFFFFL, threshold) << (8 * j);
                word |= keepBit(r >>> 32, threshold) << (8 * (j + 1));
            }
            buf.putLong(i, word);
        }
        for (; i < end; i++) {
            buf.put(i, (byte) keepBit(rnd.nextLong() >>> 32, threshold));
        }
    }

    private static long keepBit(long u, long threshold) {
        return u >= threshold ? 1L : 0L;
    }

    /** Stafford's variant 13 of MurmurHash3's finalizer: distinct inputs give unrelated generator seeds. */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
