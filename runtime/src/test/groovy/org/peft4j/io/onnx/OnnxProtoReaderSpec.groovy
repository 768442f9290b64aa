package org.peft4j.io.onnx

import spock.lang.Specification

import java.nio.ByteBuffer

class OnnxProtoReaderSpec extends Specification {

    private static ProtoReader reader(List<Integer> bytes) {
        ProtoReader.of(bytes.collect { it as byte } as byte[])
    }

    def "a varint field decodes as in the protobuf encoding guide (field 1 = 150 is 08 96 01)"() {
        given:
        def r = reader([0x08, 0x96, 0x01])

        when:
        def hasField = r.next()

        then:
        hasField
        r.field() == 1
        r.wireType() == ProtoReader.VARINT
        r.varint() == 150
        !r.next()
    }

    def "varints of every length decode, negative int64 included"() {
        given:
        def r = ProtoReader.of(ProtoBytes.varintBytes(value))

        expect:
        r.varint() == value

        where:
        value << [0L, 1L, 127L, 128L, 300L, 16_384L, 1L << 35, Long.MAX_VALUE, -1L, -2L, Long.MIN_VALUE]
    }

    def "a packed repeated varint field and the same field unpacked give the same values"() {
        given:
        def packed = reader([0x22, 0x06, 0x03, 0x8E, 0x02, 0x9E, 0xA7, 0x05])
        def unpacked = new ProtoBytes().varint(4, 3).varint(4, 270).varint(4, 86942).toByteArray()

        when:
        def fromPacked = []
        while (packed.next()) { packed.varints { fromPacked << it } }
        def fromUnpacked = []
        def u = ProtoReader.of(unpacked)
        while (u.next()) { u.varints { fromUnpacked << it } }

        then:
        fromPacked == [3L, 270L, 86942L]
        fromUnpacked == [3L, 270L, 86942L]
    }

    def "length-delimited fields give strings and nested messages, and unknown fields of every wire type are skipped"() {
        given:
        def bytes = new ProtoBytes()
                .fixed64(9, 0x1122334455667788L)
                .string(2, 'testing')
                .fixed32(8, 42)
                .message(3, new ProtoBytes().varint(1, 150))
                .toByteArray()
        def r = ProtoReader.of(bytes)
        String text = null
        Long nested = null

        when:
        while (r.next()) {
            switch (r.field()) {
                case 2: text = r.string(); break
                case 3:
                    def m = r.message()
                    while (m.next()) { nested = m.varint() }
                    break
                default: r.skip()
            }
        }

        then:
        text == 'testing'
        nested == 150
    }

    def "a length that runs past the end is reported, not read"() {
        given:
        def r = reader([0x12, 0x05, 0x61, 0x62])

        when:
        r.next()
        r.string()

        then:
        def e = thrown(IllegalStateException)
        e.message.contains('claims 5 bytes but 2 remain')
    }

    def "a TensorProto with packed dims and float_data decodes to its name, type, shape and values"() {
        given:
        def bytes = new ProtoBytes()
                .packedVarints(1, [2L, 3L])
                .varint(2, OnnxTensor.FLOAT)
                .packedFloats(4, [1f, 2f, 3f, 4f, 5f, -6.5f])
                .string(8, 'w')
                .toByteArray()

        when:
        def t = OnnxTensor.read(ProtoReader.of(bytes))
        def f = t.floats()
        def values = (0..<f.remaining()).collect { f.get(it) }

        then:
        t.name() == 'w'
        t.dims() == [2L, 3L] as long[]
        values == [1f, 2f, 3f, 4f, 5f, -6.5f]
    }

    def "a TensorProto with unpacked dims and raw_data reads the raw little-endian bytes"() {
        given:
        def bytes = new ProtoBytes()
                .varint(1, 1).varint(1, 2)
                .varint(2, OnnxTensor.FLOAT)
                .string(8, 'b')
                .bytes(9, ProtoBytes.floatBytes([0.25f, -1f]))
                .toByteArray()

        when:
        def t = OnnxTensor.read(ProtoReader.of(bytes))

        then:
        t.dims() == [1L, 2L] as long[]
        t.floats().get(0) == 0.25f
        t.floats().get(1) == -1f
    }

    def "int64_data and int32_data tensors read as longs"() {
        given:
        def bytes = new ProtoBytes()
                .packedVarints(1, [3L])
                .varint(2, type)
                .packedVarints(field, [12L, -1L, 32L])
                .string(8, 'shape')
                .toByteArray()

        expect:
        OnnxTensor.read(ProtoReader.of(bytes)).longs() == [12L, -1L, 32L] as long[]

        where:
        type             | field
        OnnxTensor.INT64 | 7
        OnnxTensor.INT32 | 5
    }

    def "a tensor whose data lives in an external file is rejected with its name and location"() {
        given:
        def bytes = new ProtoBytes()
                .packedVarints(1, [4L])
                .varint(2, OnnxTensor.FLOAT)
                .string(8, 'encoder.big.weight')
                .message(13, new ProtoBytes().string(1, 'location').string(2, 'weights.bin'))
                .varint(14, 1)
                .toByteArray()

        when:
        OnnxTensor.read(ProtoReader.of(bytes))

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains("'encoder.big.weight'")
        e.message.contains("'weights.bin'")
        e.message.contains('external')
    }

    def "the reader leaves the caller's buffer where it was"() {
        given:
        def buf = ByteBuffer.wrap([0x08, 0x01] as byte[])

        when:
        def r = new ProtoReader(buf)
        r.next()
        r.varint()

        then:
        buf.position() == 0
    }
}
