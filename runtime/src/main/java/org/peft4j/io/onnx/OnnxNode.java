package org.peft4j.io.onnx;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An ONNX NodeProto: one operator with its input and output value names and its attributes.
 * Only the attribute kinds a weight importer looks at are kept (int, float, string, tensor, ints).
 */
public record OnnxNode(String name, String opType, List<String> inputs, List<String> outputs,
                       Map<String, Attribute> attributes) {

    /** One AttributeProto; fields that the attribute does not set are 0, null or empty. */
    public record Attribute(String name, long i, float f, String s, OnnxTensor t, List<Long> ints) {
    }

    public static OnnxNode read(ProtoReader r) {
        String name = "";
        String opType = "";
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        Map<String, Attribute> attributes = new TreeMap<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> inputs.add(r.string());
                case 2 -> outputs.add(r.string());
                case 3 -> name = r.string();
                case 4 -> opType = r.string();
                case 5 -> {
                    Attribute a = readAttribute(r.message());
                    attributes.put(a.name(), a);
                }
                default -> r.skip();
            }
        }
        return new OnnxNode(name, opType, List.copyOf(inputs), List.copyOf(outputs), Map.copyOf(attributes));
    }

    private static Attribute readAttribute(ProtoReader r) {
        String name = "";
        long i = 0;
        float f = 0;
        String s = null;
        OnnxTensor t = null;
        List<Long> ints = new ArrayList<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> name = r.string();
                case 2 -> f = r.float32();
                case 3 -> i = r.varint();
                case 4 -> s = r.string();
                case 5 -> t = OnnxTensor.read(r.message());
                case 8 -> r.varints(ints::add);
                default -> r.skip();
            }
        }
        return new Attribute(name, i, f, s, t, List.copyOf(ints));
    }

    /** The first input, or the input at {@code index}; null when absent. */
    public String input(int index) {
        return index < inputs.size() ? inputs.get(index) : null;
    }

    public String output() {
        return outputs.isEmpty() ? null : outputs.get(0);
    }
}
