package org.peft4j.io.onnx

import java.nio.ByteBuffer
import java.nio.ByteOrder

/** Builds protobuf wire bytes by hand, so the reader is checked against the encoding rules, not against itself. */
class ProtoBytes {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream()

    static byte[] varintBytes(long v) {
        def b = new ByteArrayOutputStream()
        while (true) {
            if ((v & ~0x7FL) == 0) {
                b.write((int) v)
                return b.toByteArray()
            }
            b.write((int) ((v & 0x7F) | 0x80))
            v >>>= 7
        }
    }

    ProtoBytes varint(int field, long v) {
        out.write(varintBytes((field << 3) | 0))
        out.write(varintBytes(v))
        this
    }

    ProtoBytes bytes(int field, byte[] payload) {
        out.write(varintBytes((field << 3) | 2))
        out.write(varintBytes(payload.length))
        out.write(payload)
        this
    }

    ProtoBytes string(int field, String s) {
        bytes(field, s.getBytes('UTF-8'))
    }

    ProtoBytes message(int field, ProtoBytes m) {
        bytes(field, m.toByteArray())
    }

    ProtoBytes packedVarints(int field, List<Long> values) {
        def b = new ByteArrayOutputStream()
        values.each { b.write(varintBytes(it)) }
        bytes(field, b.toByteArray())
    }

    ProtoBytes packedFloats(int field, List<Float> values) {
        bytes(field, floatBytes(values))
    }

    ProtoBytes fixed32(int field, int bits) {
        out.write(varintBytes((field << 3) | 5))
        out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(bits).array())
        this
    }

    ProtoBytes fixed64(int field, long bits) {
        out.write(varintBytes((field << 3) | 1))
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(bits).array())
        this
    }

    static byte[] floatBytes(List<Float> values) {
        def b = ByteBuffer.allocate(4 * values.size()).order(ByteOrder.LITTLE_ENDIAN)
        values.each { b.putFloat(it as float) }
        b.array()
    }

    byte[] toByteArray() {
        out.toByteArray()
    }
}
