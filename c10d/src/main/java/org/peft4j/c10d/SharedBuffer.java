package org.peft4j.c10d;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The file the worker and this agent share, mapped into memory. The worker grows it when it needs more
 * room; the agent maps it anew when a request reaches past its mapping.
 */
final class SharedBuffer implements AutoCloseable {

    private final FileChannel channel;
    private MappedByteBuffer mapped;
    private Pointer address;

    SharedBuffer(Path file) {
        try {
            this.channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the shared file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * A tensor over the first {@code count} elements of the file, no copy: the collective then reads and
     * writes the worker's data where it lies.
     */
    Tensor view(torch.ScalarType type, long count, int elementBytes) throws IOException {
        long bytes = count * elementBytes;
        if (mapped == null || mapped.capacity() < bytes) {
            long size = channel.size();
            if (size < bytes) {
                throw new IOException("the shared file holds " + size + " bytes; " + count + " elements need " + bytes);
            }
            if (size > Integer.MAX_VALUE) {
                size = Integer.MAX_VALUE;
                if (size < bytes) {
                    throw new IOException(count + " elements (" + bytes + " bytes) exceed one mapping's 2 GiB");
                }
            }
            mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, size);
            address = new Pointer(mapped);
        }
        return torch.from_blob(address, new long[] {count}, new TensorOptions(type));
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
