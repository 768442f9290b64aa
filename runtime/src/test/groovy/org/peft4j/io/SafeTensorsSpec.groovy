package org.peft4j.io

import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import org.peft4j.tensor.Backend
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.nio.file.Path

class SafeTensorsSpec extends Specification {

    @TempDir
    Path tmp

    NDManager manager

    def setup() {
        manager = Backend.get().manager().newSubManager()
    }

    def cleanup() {
        manager.close()
    }

    def "tensors written and read back keep names, shapes, dtypes and values"() {
        given:
        def f32 = manager.create([1.5f, -2.25f, 3f, 0f, 1e-3f, 7f] as float[], new Shape(2, 3))
        def f16 = manager.create([0.5f, -1f, 2.75f, 1000f] as float[], new Shape(4)).toType(DataType.FLOAT16, false)
        def i64 = manager.create([1L, -2L, 1L << 40] as long[], new Shape(3, 1))
        def file = tmp.resolve('t.safetensors')

        when:
        SafeTensors.write(file, ['b.f32': f32, 'a.f16': f16, 'c.i64': i64], [format: 'pt'])
        def header = SafeTensors.header(file)
        def back = SafeTensors.read(file, manager)

        then: 'the header is in sorted order with each dtype as written'
        header.keySet() as List == ['a.f16', 'b.f32', 'c.i64']
        header.collectEntries { k, v -> [k, v.dtype()] } == ['a.f16': 'F16', 'b.f32': 'F32', 'c.i64': 'I64']
        header['b.f32'].shape() == [2, 3] as long[]
        SafeTensors.metadata(file) == [format: 'pt']

        and: 'floats come back as f32, integers keep their type, values are equal'
        back['b.f32'].shape == new Shape(2, 3)
        back['b.f32'].toFloatArray() == f32.toFloatArray()
        back['a.f16'].dataType == DataType.FLOAT32
        back['a.f16'].toFloatArray() == [0.5f, -1f, 2.75f, 1000f] as float[]
        back['c.i64'].dataType == DataType.INT64
        back['c.i64'].shape == new Shape(3, 1)
        back['c.i64'].toLongArray() == [1L, -2L, 1L << 40] as long[]
    }

    def "only the tensors asked for are read"() {
        given:
        def file = tmp.resolve('t.safetensors')
        SafeTensors.write(file, [x: manager.ones(new Shape(2)), y: manager.zeros(new Shape(3))], null)

        expect:
        SafeTensors.read(file, manager, ['y'] as Set).keySet() == ['y'] as Set
    }

    def "bf16 tensors are widened to f32 in Java"() {
        given: 'a hand-made file: 1.0 and -2.5 as bf16 are 0x3F80 and 0xC020'
        def file = rawFile('{"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}', [0x80, 0x3F, 0x20, 0xC0] as byte[])

        when:
        def w = SafeTensors.read(file, manager)['w']

        then:
        w.dataType == DataType.FLOAT32
        w.toFloatArray() == [1.0f, -2.5f] as float[]
    }

    def "a header that lies about sizes is rejected with the tensor's name"() {
        given:
        def file = rawFile(header, new byte[8])

        when:
        SafeTensors.read(file, manager)

        then:
        def e = thrown(IOException)
        e.message.contains("tensor '$name'")

        where:
        name       | header
        'too.long' | '{"too.long":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'
        'too.many' | '{"ok":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"too.many":{"dtype":"F32","shape":[3],"data_offsets":[4,8]}}'
        'negative' | '{"negative":{"dtype":"F32","shape":[-1,-2],"data_offsets":[0,8]}}'
        'odd.type' | '{"odd.type":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}'
    }

    def "a header length past the end of the file is rejected"() {
        given:
        def file = tmp.resolve('short.safetensors')
        Files.write(file, ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).putInt(0).array())

        when:
        SafeTensors.header(file)

        then:
        def e = thrown(IOException)
        e.message.contains('header length 1000')
    }

    private Path rawFile(String json, byte[] data) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8)
        def buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
        buf.putLong(h.length).put(h).put(data)
        def file = tmp.resolve('raw.safetensors')
        Files.write(file, buf.array())
        file
    }
}
