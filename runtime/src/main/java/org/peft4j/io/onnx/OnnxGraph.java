package org.peft4j.io.onnx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The main graph of an ONNX ModelProto: its nodes in file order and its initializers by name,
 * with the lookups a weight importer needs (who produces a value, who consumes it, which
 * constant it is).
 */
public final class OnnxGraph {

    private final List<OnnxNode> nodes;
    private final Map<String, OnnxTensor> initializers;
    private final Map<String, OnnxNode> producers = new HashMap<>();
    private final Map<String, List<OnnxNode>> consumers = new HashMap<>();

    private OnnxGraph(List<OnnxNode> nodes, Map<String, OnnxTensor> initializers) {
        this.nodes = List.copyOf(nodes);
        this.initializers = Collections.unmodifiableMap(initializers);
        for (OnnxNode n : nodes) {
            n.outputs().forEach(o -> producers.put(o, n));
            n.inputs().forEach(i -> consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n));
        }
    }

    /**
     * Reads a model file. The file is memory mapped and the initializers are views of that
     * mapping, so the weights are read from the page cache when used, not copied at load.
     */
    public static OnnxGraph read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                // protobuf itself caps a message at 2 GB; bigger models keep their weights outside
                throw new IOException(file + ": " + size + " bytes is more than an ONNX file with embedded weights"
                        + " can hold (2 GB); models this large use external data, which peft4j does not import");
            }
            try {
                return read(ch.map(FileChannel.MapMode.READ_ONLY, 0, size));
            } catch (IllegalStateException | IllegalArgumentException e) {
                throw new IOException(file + ": " + e.getMessage(), e);
            }
        }
    }

    /** Reads a serialized ModelProto. */
    public static OnnxGraph read(ByteBuffer modelProto) {
        ProtoReader model = new ProtoReader(modelProto);
        OnnxGraph graph = null;
        while (model.next()) {
            if (model.field() == 7 && model.wireType() == ProtoReader.LEN) {
                graph = readGraph(model.message());
            } else {
                model.skip();
            }
        }
        if (graph == null) {
            throw new IllegalArgumentException("not an ONNX model: the ModelProto has no graph (field 7)");
        }
        return graph;
    }

    private static OnnxGraph readGraph(ProtoReader r) {
        List<OnnxNode> nodes = new ArrayList<>();
        Map<String, OnnxTensor> initializers = new LinkedHashMap<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> nodes.add(OnnxNode.read(r.message()));
                case 5 -> {
                    OnnxTensor t = OnnxTensor.read(r.message());
                    initializers.put(t.name(), t);
                }
                default -> r.skip();
            }
        }
        return new OnnxGraph(nodes, initializers);
    }

    public List<OnnxNode> nodes() {
        return nodes;
    }

    /** Initializers by name, in file order. */
    public Map<String, OnnxTensor> initializers() {
        return initializers;
    }

    /** The node whose output is {@code value}, or null for graph inputs and initializers. */
    public OnnxNode producer(String value) {
        return producers.get(value);
    }

    /** The nodes that read {@code value}. */
    public List<OnnxNode> consumers(String value) {
        return consumers.getOrDefault(value, List.of());
    }

    /** The tensor behind {@code value} when it is an initializer or a Constant node's output; else null. */
    public OnnxTensor constant(String value) {
        OnnxTensor t = initializers.get(value);
        if (t != null) {
            return t;
        }
        OnnxNode p = producers.get(value);
        if (p != null && p.opType().equals("Constant") && p.attributes().containsKey("value")) {
            return p.attributes().get("value").t();
        }
        return null;
    }
}
