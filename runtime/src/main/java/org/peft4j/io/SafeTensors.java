package org.peft4j.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Hugging Face safetensors format: an 8-byte little-endian header length, a JSON header
 * mapping each name to {dtype, shape, data_offsets}, then the raw little-endian data.
 *
 * <p>Reading maps the file; bf16 tensors are widened to f32 in Java before they reach the engine
 * (a bf16 value is the upper half of an f32), because this engine build aborts on bf16 arrays.
 */
public final class SafeTensors {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L * 1024 * 1024;

    private SafeTensors() {
    }

    /** One tensor's entry in a header. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {
    }

    /** Reads the header only: every tensor's name, dtype, shape and byte range, in file order. */
    public static Map<String, Entry> header(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(file, ch).entries;
        }
    }

    private record Header(Map<String, Entry> entries, Map<String, String> metadata, long dataStart) {
    }

    private static Header readHeader(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new IOException(file + ": not a safetensors file (" + size + " bytes, shorter than the 8-byte header length)");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long headerLen = lenBuf.flip().getLong();
        if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
            throw new IOException(file + ": safetensors header length " + headerLen + " does not fit a file of "
                    + size + " bytes");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(ch, hb, 8);
        JsonNode root;
        try {
            root = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IOException(file + ": safetensors header is not valid JSON: " + e.getMessage(), e);
        }
        long dataStart = 8 + headerLen;
        long dataLen = size - dataStart;
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Map.Entry<String, JsonNode>> fields = new ArrayList<>();
        root.fields().forEachRemaining(fields::add);
        for (Map.Entry<String, JsonNode> f : fields) {
            String name = f.getKey();
            JsonNode n = f.getValue();
            if (name.equals("__metadata__")) {
                n.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            JsonNode offs = n.get("data_offsets");
            JsonNode shapeNode = n.get("shape");
            if (n.get("dtype") == null || offs == null || offs.size() != 2 || shapeNode == null) {
                throw new IOException(file + ": tensor '" + name + "' lacks dtype, shape or data_offsets in the header");
            }
            String dtype = n.get("dtype").asText();
            long[] shape = new long[shapeNode.size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong(-1);
                if (shape[i] < 0) {
                    throw new IOException(file + ": tensor '" + name + "' has an invalid shape " + shapeNode
                            + " in the header");
                }
                try {
                    count = Math.multiplyExact(count, shape[i]);
                } catch (ArithmeticException overflow) {
                    throw new IOException(file + ": tensor '" + name + "' has a shape " + shapeNode
                            + " too large to address", overflow);
                }
            }
            long begin = offs.get(0).asLong();
            long end = offs.get(1).asLong();
            long expected = count * bytesPer(file, name, dtype);
            if (begin < 0 || end < begin || end > dataLen || end - begin != expected) {
                throw new IOException(file + ": tensor '" + name + "' claims bytes [" + begin + ", " + end + ") for "
                        + dtype + " " + java.util.Arrays.toString(shape) + " (" + expected + " bytes) but the data section holds "
                        + dataLen + " bytes: the file is truncated or its header is wrong");
            }
            entries.put(name, new Entry(name, dtype, shape, begin, end));
        }
        return new Header(entries, metadata, dataStart);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    private static int bytesPer(Path file, String name, String dtype) throws IOException {
        switch (dtype) {
            case "F64": case "I64": case "U64": return 8;
            case "F32": case "I32": case "U32": return 4;
            case "F16": case "BF16": case "I16": case "U16": return 2;
            case "I8": case "U8": case "BOOL": return 1;
            default:
                throw new IOException(file + ": tensor '" + name + "' has dtype " + dtype
                        + ", which peft4j does not read (F64, F32, F16, BF16, I64, I32, I8, U8, BOOL)");
        }
    }

    /** Reads every tensor into arrays of {@code manager}; floating tensors come back as F32. */
    public static Map<String, NDArray> read(Path file, NDManager manager) throws IOException {
        return read(file, manager, null);
    }

    /**
     * Reads the named tensors (all when {@code names} is null) into {@code manager}. The file is
     * memory mapped, so only the tensors asked for are touched.
     */
    public static Map<String, NDArray> read(Path file, NDManager manager, java.util.Set<String> names) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Header h = readHeader(file, ch);
            Map<String, NDArray> out = new LinkedHashMap<>();
            for (Entry e : h.entries.values()) {
                if (names != null && !names.contains(e.name)) {
                    continue;
                }
                // one mapping per tensor, so files past 2 GiB work and untouched tensors cost nothing
                MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, h.dataStart + e.begin, e.end - e.begin);
                out.put(e.name, toArray(map.order(ByteOrder.LITTLE_ENDIAN), e, manager));
            }
            return out;
        }
    }

    /** The {@code __metadata__} strings of a file. */
    public static Map<String, String> metadata(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(file, ch).metadata;
        }
    }

    private static NDArray toArray(ByteBuffer data, Entry e, NDManager manager) {
        Shape shape = new Shape(e.shape);
        switch (e.dtype) {
            case "BF16": {
                // widen: the bf16 bits are the upper 16 bits of the f32
                int n = data.remaining() / 2;
                ByteBuffer f32 = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
                for (int i = 0; i < n; i++) {
                    f32.putInt((data.getShort() & 0xFFFF) << 16);
                }
                f32.flip();
                return manager.create(f32, shape, DataType.FLOAT32);
            }
            case "F16":
                return widened(manager.create(direct(data), shape, DataType.FLOAT16));
            case "F64":
                return widened(manager.create(direct(data), shape, DataType.FLOAT64));
            case "F32":
                return manager.create(direct(data), shape, DataType.FLOAT32);
            case "I64":
                return manager.create(direct(data), shape, DataType.INT64);
            case "I32":
                return manager.create(direct(data), shape, DataType.INT32);
            case "I8":
                return manager.create(direct(data), shape, DataType.INT8);
            case "U8":
                return manager.create(direct(data), shape, DataType.UINT8);
            case "BOOL":
                return manager.create(direct(data), shape, DataType.BOOLEAN);
            default:
                throw new IllegalArgumentException("tensor '" + e.name + "': dtype " + e.dtype + " is not supported");
        }
    }

    /** The array cast to f32; the source is closed, since it would otherwise live as long as the manager. */
    private static NDArray widened(NDArray source) {
        try (source) {
            return source.toType(DataType.FLOAT32, true);
        }
    }

    private static ByteBuffer direct(ByteBuffer data) {
        ByteBuffer d = ByteBuffer.allocateDirect(data.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        d.put(data.duplicate());
        d.flip();
        return d;
    }

    /**
     * Writes tensors in sorted name order with 8-byte-aligned header, as the reference writer
     * does. The file appears atomically: written to a sibling temporary file, synced, then renamed.
     */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata) throws IOException {
        Map<String, NDArray> sorted = new TreeMap<>(tensors);
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        List<byte[]> blobs = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, NDArray> e : sorted.entrySet()) {
            NDArray a = e.getValue();
            byte[] bytes = a.toByteArray();
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", dtypeName(e.getKey(), a.getDataType()));
            var shape = t.putArray("shape");
            for (long d : a.getShape().getShape()) {
                shape.add(d);
            }
            var offs = t.putArray("data_offsets");
            offs.add(offset);
            offs.add(offset + bytes.length);
            offset += bytes.length;
            blobs.add(bytes);
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = new byte[padded];
        java.util.Arrays.fill(headerBytes, (byte) ' ');
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(headerBytes);
            for (byte[] b : blobs) {
                out.write(b);
            }
        });
    }

    private static String dtypeName(String name, DataType t) {
        switch (t) {
            case FLOAT32: return "F32";
            case FLOAT16: return "F16";
            case FLOAT64: return "F64";
            case INT64: return "I64";
            case INT32: return "I32";
            case INT8: return "I8";
            case UINT8: return "U8";
            case BOOLEAN: return "BOOL";
            default:
                throw new IllegalArgumentException("tensor '" + name + "': cannot write dtype " + t);
        }
    }

    /** Tensor names of a file, for error messages. */
    public static List<String> names(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = header(file).keySet().iterator(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }
}
