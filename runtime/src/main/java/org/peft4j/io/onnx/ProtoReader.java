package org.peft4j.io.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.function.LongConsumer;

/**
 * Reads the protobuf wire format field by field over a buffer, without a schema. Nested messages
 * and byte fields come back as views of the same buffer, so a memory-mapped model is never copied.
 *
 * <pre>
 * while (r.next()) {
 *     switch (r.field()) { case 1 -> name = r.string(); default -> r.skip(); }
 * }
 * </pre>
 */
public final class ProtoReader {

    public static final int VARINT = 0;
    public static final int FIXED64 = 1;
    public static final int LEN = 2;
    public static final int FIXED32 = 5;

    private final ByteBuffer buf;
    private int field;
    private int wireType;

    /** Reads from the buffer's position to its limit; the buffer itself is not moved. */
    public ProtoReader(ByteBuffer buf) {
        this.buf = buf.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    public static ProtoReader of(byte... bytes) {
        return new ProtoReader(ByteBuffer.wrap(bytes));
    }

    /** Advances to the next field; false at the end of the message. */
    public boolean next() {
        if (!buf.hasRemaining()) {
            return false;
        }
        long tag = varint();
        field = (int) (tag >>> 3);
        wireType = (int) (tag & 7);
        if (field <= 0) {
            throw error("field number " + field + " in tag " + tag);
        }
        return true;
    }

    public int field() {
        return field;
    }

    public int wireType() {
        return wireType;
    }

    /** A varint (int32, int64, uint64, bool, enum); negative int32/int64 come back sign-extended. */
    public long varint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!buf.hasRemaining()) {
                throw error("truncated varint");
            }
            byte b = buf.get();
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw error("varint longer than 10 bytes");
    }

    public int fixed32() {
        need(4);
        return buf.getInt();
    }

    public long fixed64() {
        need(8);
        return buf.getLong();
    }

    public float float32() {
        return Float.intBitsToFloat(fixed32());
    }

    /** The payload of a length-delimited field, as a little-endian view of the underlying buffer. */
    public ByteBuffer bytes() {
        expect(LEN);
        long len = varint();
        if (len < 0 || len > buf.remaining()) {
            throw error("field " + field + " claims " + len + " bytes but " + buf.remaining() + " remain");
        }
        ByteBuffer view = buf.slice().limit((int) len).order(ByteOrder.LITTLE_ENDIAN);
        buf.position(buf.position() + (int) len);
        return view;
    }

    public String string() {
        ByteBuffer b = bytes();
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return new String(a, StandardCharsets.UTF_8);
    }

    /** A nested message. */
    public ProtoReader message() {
        return new ProtoReader(bytes());
    }

    /**
     * A repeated varint field, whichever encoding the writer chose: packed (one length-delimited
     * run) or one tag per element. Call once per occurrence of the field.
     */
    public void varints(LongConsumer sink) {
        if (wireType == LEN) {
            ProtoReader packed = message();
            while (packed.buf.hasRemaining()) {
                sink.accept(packed.varint());
            }
        } else {
            expect(VARINT);
            sink.accept(varint());
        }
    }

    /** A repeated fixed32 field (float, fixed32), packed or not; elements are raw bits. */
    public void fixed32s(java.util.function.IntConsumer sink) {
        if (wireType == LEN) {
            ByteBuffer packed = bytes();
            if (packed.remaining() % 4 != 0) {
                throw error("packed fixed32 field " + field + " has " + packed.remaining() + " bytes, not a multiple of 4");
            }
            while (packed.hasRemaining()) {
                sink.accept(packed.getInt());
            }
        } else {
            expect(FIXED32);
            sink.accept(fixed32());
        }
    }

    /** Skips the current field's value. */
    public void skip() {
        switch (wireType) {
            case VARINT -> varint();
            case FIXED64 -> fixed64();
            case LEN -> bytes();
            case FIXED32 -> fixed32();
            default -> throw error("wire type " + wireType + " (groups are not used by ONNX)");
        }
    }

    private void expect(int type) {
        if (wireType != type) {
            throw error("field " + field + " has wire type " + wireType + ", expected " + type);
        }
    }

    private void need(int n) {
        if (buf.remaining() < n) {
            throw error("truncated: need " + n + " bytes, " + buf.remaining() + " remain");
        }
    }

    private IllegalStateException error(String what) {
        return new IllegalStateException("malformed protobuf at offset " + buf.position() + ": " + what);
    }
}
