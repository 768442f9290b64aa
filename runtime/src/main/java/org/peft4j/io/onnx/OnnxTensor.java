package org.peft4j.io.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An ONNX TensorProto: name, element type, dims and the data as little-endian bytes. When the
 * exporter used {@code raw_data} (as PyTorch does for weights), the data is a view of the model
 * file, not a copy.
 */
public final class OnnxTensor {

    public static final int FLOAT = 1;
    public static final int INT32 = 6;
    public static final int INT64 = 7;

    private static final String[] TYPE_NAMES = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
            "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};

    private final String name;
    private final int dataType;
    private final long[] dims;
    private final ByteBuffer data;

    OnnxTensor(String name, int dataType, long[] dims, ByteBuffer data) {
        this.name = name;
        this.dataType = dataType;
        this.dims = dims;
        this.data = data;
    }

    /** Decodes a TensorProto message. */
    public static OnnxTensor read(ProtoReader r) {
        String name = "";
        int dataType = 0;
        List<Long> dims = new ArrayList<>();
        ByteBuffer raw = null;
        ByteBuffer packedFloats = null;
        List<Integer> floatBits = new ArrayList<>();
        List<Long> ints = new ArrayList<>();
        boolean external = false;
        String location = null;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> r.varints(dims::add);
                case 2 -> dataType = (int) r.varint();
                case 4 -> {
                    // the common packed case stays a view; unpacked or split runs are gathered
                    if (r.wireType() == ProtoReader.LEN && packedFloats == null && floatBits.isEmpty()) {
                        packedFloats = r.bytes();
                    } else {
                        r.fixed32s(floatBits::add);
                    }
                }
                case 5, 7 -> r.varints(ints::add);
                case 8 -> name = r.string();
                case 9 -> raw = r.bytes();
                case 13 -> {
                    external = true;
                    ProtoReader kv = r.message();
                    String key = null;
                    String value = null;
                    while (kv.next()) {
                        switch (kv.field()) {
                            case 1 -> key = kv.string();
                            case 2 -> value = kv.string();
                            default -> kv.skip();
                        }
                    }
                    if ("location".equals(key)) {
                        location = value;
                    }
                }
                case 14 -> external |= r.varint() == 1;
                default -> r.skip();
            }
        }
        if (external) {
            throw new IllegalArgumentException("ONNX tensor '" + name + "' keeps its data in an external file"
                    + (location == null ? "" : " ('" + location + "')") + "; peft4j imports ONNX models whose weights"
                    + " are inside the .onnx file: re-save it with onnx.save_model(model, path,"
                    + " save_as_external_data=False) (models under 2 GB)");
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        ByteBuffer data;
        if (raw != null) {
            data = raw;
        } else if (packedFloats != null && floatBits.isEmpty()) {
            data = packedFloats;
        } else if (packedFloats != null || !floatBits.isEmpty()) {
            int before = packedFloats == null ? 0 : packedFloats.remaining();
            ByteBuffer b = ByteBuffer.allocate(before + 4 * floatBits.size()).order(ByteOrder.LITTLE_ENDIAN);
            if (packedFloats != null) {
                b.put(packedFloats.duplicate());
            }
            floatBits.forEach(b::putInt);
            data = b.flip();
        } else if (dataType == INT64) {
            ByteBuffer b = ByteBuffer.allocate(8 * ints.size()).order(ByteOrder.LITTLE_ENDIAN);
            ints.forEach(b::putLong);
            data = b.flip();
        } else {
            // int32_data also carries the narrower integer types and bool, one element per varint
            ByteBuffer b = ByteBuffer.allocate(4 * ints.size()).order(ByteOrder.LITTLE_ENDIAN);
            ints.forEach(v -> b.putInt(v.intValue()));
            data = b.flip();
        }
        return new OnnxTensor(name, dataType, shape, data.order(ByteOrder.LITTLE_ENDIAN));
    }

    public String name() {
        return name;
    }

    /** The TensorProto.DataType code ({@link #FLOAT}, {@link #INT64}, ...). */
    public int dataType() {
        return dataType;
    }

    public String dataTypeName() {
        return dataType >= 0 && dataType < TYPE_NAMES.length ? TYPE_NAMES[dataType] : "type " + dataType;
    }

    public long[] dims() {
        return dims.clone();
    }

    public long count() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /** The data as little-endian bytes; a view of the model file when the exporter used raw_data. */
    public ByteBuffer rawData() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The elements of a FLOAT tensor, as a view. */
    public FloatBuffer floats() {
        check(FLOAT, 4);
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    }

    /** The elements of an INT64 or INT32 tensor, widened to long (meant for small constants). */
    public long[] longs() {
        if (dataType == INT32) {
            check(INT32, 4);
            ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            long[] out = new long[(int) count()];
            for (int i = 0; i < out.length; i++) {
                out[i] = b.getInt();
            }
            return out;
        }
        check(INT64, 8);
        long[] out = new long[(int) count()];
        data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
        return out;
    }

    private void check(int type, int bytesPer) {
        if (dataType != type) {
            throw new IllegalArgumentException("ONNX tensor '" + name + "' has data type " + dataTypeName()
                    + " where " + TYPE_NAMES[type] + " was expected; peft4j reads FLOAT, INT64 and INT32 tensors");
        }
        long expected = count() * bytesPer;
        if (data.remaining() != expected) {
            throw new IllegalArgumentException("ONNX tensor '" + name + "' " + dataTypeName() + " "
                    + Arrays.toString(dims) + " needs " + expected + " bytes of data but holds " + data.remaining());
        }
    }

    @Override
    public String toString() {
        return name + " " + dataTypeName() + " " + Arrays.toString(dims);
    }
}
