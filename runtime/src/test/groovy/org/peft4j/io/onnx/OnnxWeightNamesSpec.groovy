package org.peft4j.io.onnx

import spock.lang.Specification

import java.nio.ByteBuffer

/** Naming on tiny hand-built graphs: one Linear as the PyTorch exporter writes it (MatMul, then Add of the bias). */
class OnnxWeightNamesSpec extends Specification {

    private static ProtoBytes tensor(String name, List<Long> dims, List<Float> values) {
        new ProtoBytes().packedVarints(1, dims).varint(2, OnnxTensor.FLOAT).string(8, name)
                .bytes(9, ProtoBytes.floatBytes(values))
    }

    private static ProtoBytes node(String op, List<String> inputs, String output) {
        def n = new ProtoBytes()
        inputs.each { n.string(1, it) }
        n.string(2, output).string(3, "/$op").string(4, op)
    }

    private static OnnxGraph graph(String biasName) {
        def g = new ProtoBytes()
                .message(1, node('MatMul', ['x', 'onnx::MatMul_7'], 'mm'))
                .message(1, node('Add', [biasName, 'mm'], 'y'))
                .message(5, tensor('onnx::MatMul_7', [2L, 3L], [1f, 2f, 3f, 4f, 5f, 6f]))
                .message(5, tensor(biasName, [3L], [0.1f, 0.2f, 0.3f]))
        def model = new ProtoBytes().varint(1, 8).message(7, g)
        OnnxGraph.read(ByteBuffer.wrap(model.toByteArray()))
    }

    def "the MatMul weight added to a named bias takes the bias's module path, transposed to [out, in]"() {
        when:
        def weights = HfWeightNames.of(graph('dense.bias'))
        def w = weights['dense.weight']
        def t = OnnxImporter.transposed(w.source()).asFloatBuffer()

        then:
        weights.keySet() == ['dense.bias', 'dense.weight'] as Set
        w.transpose()
        w.shape() == [3L, 2L] as long[]
        // [[1,2,3],[4,5,6]] transposed by hand
        (0..<6).collect { t.get(it) } == [1f, 4f, 2f, 5f, 3f, 6f]
    }

    def "a MatMul weight with no named bias after it fails with the tensor's name"() {
        when:
        HfWeightNames.of(graph('onnx::Add_9'))

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains("'onnx::MatMul_7' [2, 3]")
        e.message.contains("MatMul node '/MatMul'")
    }

    def "a graph without BERT weights is refused with what is missing"() {
        given:
        def g = graph('dense.bias')

        when:
        BertOnnxConfig.of(g, HfWeightNames.of(g))

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains("no 'encoder.layer.N.*' weights")
    }
}
