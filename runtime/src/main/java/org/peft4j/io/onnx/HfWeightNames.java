package org.peft4j.io.onnx;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Gives every weight of a PyTorch-exported transformer graph its Hugging Face name.
 *
 * <p>The exporter keeps the module path for tensors it passes through unchanged (biases,
 * LayerNorms, embeddings) but stores each Linear weight pre-transposed for {@code x @ W} under a
 * generated name such as {@code onnx::MatMul_787}, shape [in, out]. The Linear's bias is added to
 * that MatMul's output, so {@code <path>.bias} on the Add names the weight {@code <path>.weight};
 * it is transposed back to PyTorch's [out, in]. A Gemm node carries weight and bias itself.
 */
public final class HfWeightNames {

    /**
     * Tensors the exporter saves but a Hugging Face checkpoint does not: buffers, not parameters
     * (recent transformers versions register them with {@code persistent=False}).
     */
    private static final Set<String> BUFFERS = Set.of("embeddings.position_ids", "embeddings.token_type_ids");

    /** One named weight: where its values are in the ONNX model and whether it is stored [in, out]. */
    public record Weight(String name, OnnxTensor source, boolean transpose) {

        public long[] shape() {
            long[] d = source.dims();
            return transpose ? new long[] {d[1], d[0]} : d;
        }
    }

    private HfWeightNames() {
    }

    /**
     * All float parameters of the graph by Hugging Face name, in graph order. Non-float
     * initializers, buffers and generated constants (shape vectors, scalars) are left out.
     *
     * @throws IllegalArgumentException naming the tensor when a Linear weight has no bias to be named by
     */
    public static Map<String, Weight> of(OnnxGraph graph) {
        Map<String, OnnxTensor> init = graph.initializers();
        Map<String, Weight> out = new LinkedHashMap<>();
        for (OnnxTensor t : init.values()) {
            if (t.dataType() == OnnxTensor.FLOAT && isModulePath(t.name()) && !BUFFERS.contains(t.name())) {
                out.put(t.name(), new Weight(t.name(), t, false));
            }
        }
        List<String> unnamed = new ArrayList<>();
        for (OnnxNode node : graph.nodes()) {
            Weight w = switch (node.opType()) {
                case "MatMul" -> matMulWeight(graph, node, unnamed);
                case "Gemm" -> gemmWeight(graph, node, unnamed);
                default -> null;
            };
            if (w != null) {
                out.putIfAbsent(w.name(), w);
            }
        }
        if (!unnamed.isEmpty()) {
            throw new IllegalArgumentException("cannot give a Hugging Face name to " + unnamed.size()
                    + " Linear weight(s) of the ONNX graph: " + String.join("; ", unnamed)
                    + ". peft4j names a Linear weight after the '<module>.bias' initializer added to its"
                    + " output (the pattern torch.onnx.export writes); this graph does not show which module the"
                    + " weight belongs to, so it cannot be imported as a Hugging Face checkpoint");
        }
        return out;
    }

    private static Weight matMulWeight(OnnxGraph graph, OnnxNode node, List<String> unnamed) {
        OnnxTensor w = graph.initializers().get(node.input(1));
        if (w == null || w.dataType() != OnnxTensor.FLOAT || w.dims().length != 2 || isModulePath(w.name())) {
            return null;
        }
        for (OnnxNode add : graph.consumers(node.output())) {
            if (!add.opType().equals("Add")) {
                continue;
            }
            for (String in : add.inputs()) {
                if (in.endsWith(".bias") && graph.initializers().containsKey(in)) {
                    return new Weight(in.substring(0, in.length() - "bias".length()) + "weight", w, true);
                }
            }
        }
        unnamed.add("'" + w.name() + "' " + java.util.Arrays.toString(w.dims()) + " (MatMul node '" + node.name()
                + "': no Add of a named '...bias' initializer follows it)");
        return null;
    }

    private static Weight gemmWeight(OnnxGraph graph, OnnxNode node, List<String> unnamed) {
        OnnxTensor w = graph.initializers().get(node.input(1));
        if (w == null || w.dataType() != OnnxTensor.FLOAT || w.dims().length != 2 || isModulePath(w.name())) {
            return null;
        }
        OnnxNode.Attribute transB = node.attributes().get("transB");
        boolean storedInOut = transB == null || transB.i() == 0;
        String bias = node.input(2);
        if (bias != null && bias.endsWith(".bias") && graph.initializers().containsKey(bias)) {
            return new Weight(bias.substring(0, bias.length() - "bias".length()) + "weight", w, storedInOut);
        }
        unnamed.add("'" + w.name() + "' " + java.util.Arrays.toString(w.dims()) + " (Gemm node '" + node.name()
                + "': its bias input is not a named '...bias' initializer)");
        return null;
    }

    /** A PyTorch module path like {@code encoder.layer.0.output.dense.bias}, not a generated name. */
    static boolean isModulePath(String name) {
        return !name.isEmpty() && !name.contains("::") && !name.startsWith("/") && name.matches("[A-Za-z0-9_.]+");
    }
}
