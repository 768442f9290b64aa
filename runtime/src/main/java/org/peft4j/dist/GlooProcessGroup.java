package org.peft4j.dist;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The workers' collectives on PyTorch's c10d with the Gloo backend, run by a c10d agent: a child process of
 * this worker that holds bytedeco's libtorch 2.10 (which has a usable c10d from Java, and which cannot share
 * a process with the libtorch 2.7.1 that DJL loads here). The worker and its agent share one file in memory
 * ({@code /dev/shm}): the worker copies its arrays in, the agent's Gloo group sums them in place with the
 * other workers' agents, and the worker copies the result back. The agent ends when this worker does, even by
 * SIGKILL (its input closes), so the other workers' next collective fails at once naming the lost peer.
 */
public final class GlooProcessGroup implements ProcessGroup {

    /** The agent's main class, in the {@code peft4j-c10d} module. */
    static final String AGENT = "org.peft4j.c10d.Agent";

    private static final long MIN_SHARED_BYTES = 1 << 20;

    /** Floats an all-reduce moves at once: 32 MiB of shared memory, {@code -Dpeft4j.dist.chunkFloats} to change it. */
    static final long DEFAULT_CHUNK_FLOATS = 8L << 20;

    private final World world;
    private final Process agent;
    private final BufferedWriter toAgent;
    private final BufferedReader fromAgent;
    private final Path file;
    private final FileChannel channel;
    private final NDManager manager;
    private final long chunkFloats = Long.getLong("peft4j.dist.chunkFloats", DEFAULT_CHUNK_FLOATS);
    private MappedByteBuffer shared;
    private boolean closed;

    private GlooProcessGroup(World world, Process agent, Path file, FileChannel channel) {
        this.world = world;
        this.agent = agent;
        this.file = file;
        this.channel = channel;
        this.toAgent = new BufferedWriter(new OutputStreamWriter(agent.getOutputStream(), StandardCharsets.UTF_8));
        this.fromAgent = new BufferedReader(new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8));
        // host memory: the shared file is where Gloo reads and writes, whatever device the model trains on
        this.manager = NDManager.newBaseManager(Device.cpu());
        if (chunkFloats < 1) {
            throw new DistributedException("peft4j.dist.chunkFloats is " + chunkFloats + "; it must be at least 1");
        }
    }

    /**
     * Starts this worker's agent and returns once every worker of {@code world} has joined, or throws naming
     * the master address it could not reach within the connect timeout.
     */
    public static GlooProcessGroup start(World world, DistSettings settings) {
        if (!world.distributed()) {
            throw new DistributedException("a Gloo group needs more than one worker; WORLD_SIZE is " + world.worldSize());
        }
        String classpath = AgentClasspath.find();
        Path file = sharedFile(world);
        FileChannel channel = null;
        Process agent = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            ProcessBuilder builder = new ProcessBuilder(javaCommand(), "-Xmx256m", "-XX:+UseSerialGC",
                    "-cp", classpath, AGENT,
                    Integer.toString(world.rank()), Integer.toString(world.worldSize()), world.masterAddr(),
                    Integer.toString(world.masterPort()), file.toString(),
                    Integer.toString(settings.connectTimeoutSeconds()),
                    Integer.toString(settings.collectiveTimeoutSeconds()));
            // the agent computes nothing itself: Gloo sums on its own threads, libtorch needs none of its own
            builder.environment().put("OMP_NUM_THREADS", "1");
            // c10d logs every failed attempt with a C++ stack trace; the agent reports failures itself, worded
            // for a user. TORCH_CPP_LOG_LEVEL=INFO (or WARNING) in the environment shows c10d's log again.
            builder.environment().putIfAbsent("TORCH_CPP_LOG_LEVEL", "FATAL");
            builder.redirectError(ProcessBuilder.Redirect.INHERIT);
            agent = builder.start();
            GlooProcessGroup group = new GlooProcessGroup(world, agent, file, channel);
            group.awaitReady();
            // both sides hold the file open; unlinked now, it cannot outlive them whichever way they end
            Files.deleteIfExists(file);
            return group;
        } catch (IOException e) {
            cleanUp(agent, channel, file);
            throw new DistributedException("rank " + world.rank() + " could not start its c10d agent: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            cleanUp(agent, channel, file);
            throw e;
        }
    }

    @Override
    public World world() {
        return world;
    }

    @Override
    public synchronized void allReduceMean(List<NDArray> arrays) {
        if (arrays.isEmpty()) {
            return;
        }
        long total = 0;
        for (NDArray array : arrays) {
            if (array.getDataType() != DataType.FLOAT32) {
                throw new IllegalArgumentException("allReduceMean takes float32 arrays; one is " + array.getDataType()
                        + " of shape " + array.getShape());
            }
            total += array.size();
        }
        if (total == 0) {
            return;
        }
        // in chunks: the shared memory stays small (a container's /dev/shm is often 64 MB) whatever the model's size
        long chunk = Math.min(total, chunkFloats);
        ensureCapacity(chunk * Float.BYTES);
        try (NDScope ignored = new NDScope()) {
            // an array over the shared memory itself (no copy): one native copy in, one out
            NDArray flat = manager.create(shared.slice(0, Math.toIntExact(chunk * Float.BYTES)), new Shape(chunk),
                    DataType.FLOAT32);
            List<NDArray> sources = new ArrayList<>(arrays.size());
            long[] starts = new long[arrays.size() + 1];
            for (int i = 0; i < arrays.size(); i++) {
                // a GPU gradient passes through the host: Gloo's collectives run on host memory
                sources.add(onCpu(arrays.get(i)).reshape(-1));
                starts[i + 1] = starts[i] + arrays.get(i).size();
            }
            List<List<NDArray>> pieces = new ArrayList<>(arrays.size());
            for (int i = 0; i < arrays.size(); i++) {
                pieces.add(new ArrayList<>(1));
            }
            int first = 0;
            for (long from = 0; from < total; from += chunk) {
                long to = Math.min(total, from + chunk);
                int last = first;
                for (int i = first; i < arrays.size() && starts[i] < to; i++) {
                    long lo = Math.max(from, starts[i]);
                    long hi = Math.min(to, starts[i + 1]);
                    flat.set(slice(lo - from, hi - from), sources.get(i).get(slice(lo - starts[i], hi - starts[i])));
                    last = i;
                }
                request("allreduce f32 " + (to - from), "allreduce");
                NDArray sums = flat.get(slice(0, to - from));
                sums.divi(world.worldSize());
                for (int i = first; i <= last; i++) {
                    long lo = Math.max(from, starts[i]);
                    long hi = Math.min(to, starts[i + 1]);
                    NDArray mean = flat.get(slice(lo - from, hi - from));
                    boolean whole = lo == starts[i] && hi == starts[i + 1];
                    // a piece of an array that spans chunks is kept (the next chunk overwrites the shared memory)
                    pieces.get(i).add(whole ? mean : mean.duplicate());
                    if (hi == starts[i + 1]) {
                        NDArray array = arrays.get(i);
                        NDArray all = pieces.get(i).size() == 1 ? pieces.get(i).get(0)
                                : NDArrays.concat(new NDList(pieces.get(i)));
                        all = all.reshape(array.getShape());
                        // in place: the caller's array may be a view of a parameter's gradient that the optimizer reads
                        array.set(new NDIndex("..."), array.getDevice().isGpu() ? all.toDevice(array.getDevice(), false) : all);
                        first = i + 1;
                    }
                }
            }
        }
    }

    private static NDIndex slice(long from, long to) {
        return new NDIndex().addSliceDim(from, to);
    }

    private static NDArray onCpu(NDArray array) {
        return array.getDevice().isGpu() ? array.toDevice(Device.cpu(), false) : array;
    }

    @Override
    public synchronized double[] allReduceSum(double... values) {
        if (values.length == 0) {
            return new double[0];
        }
        ensureCapacity((long) values.length * Double.BYTES);
        DoubleBuffer doubles = shared.duplicate().order(ByteOrder.nativeOrder()).asDoubleBuffer();
        doubles.put(values);
        request("allreduce f64 " + values.length, "allreduce");
        double[] sums = new double[values.length];
        doubles.flip();
        doubles.get(sums);
        return sums;
    }

    @Override
    public synchronized void barrier() {
        request("barrier", "barrier");
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            toAgent.close();
        } catch (IOException ignored) {
            // the agent is gone already
        }
        try {
            if (!agent.waitFor(10, TimeUnit.SECONDS)) {
                agent.destroyForcibly();
            }
        } catch (InterruptedException e) {
            agent.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        manager.close();
        cleanUp(null, channel, file);
    }

    /** The agent process (for specs that stand for a worker that dies). */
    Process agentProcess() {
        return agent;
    }

    private void awaitReady() throws IOException {
        String reply = reply();
        if (reply.equals("ready")) {
            return;
        }
        if (reply.startsWith("error ")) {
            String message = reply.substring("error ".length());
            throw new DistributedException("rank " + world.rank() + (message.startsWith("could not") ? " " : ": ")
                    + message);
        }
        throw agentEnded("joining the group");
    }

    private void request(String line, String what) {
        if (closed) {
            throw new DistributedException("rank " + world.rank() + ": the process group is closed");
        }
        String reply;
        try {
            toAgent.write(line);
            toAgent.newLine();
            toAgent.flush();
            reply = reply();
        } catch (IOException e) {
            throw agentEnded(what);
        }
        if (reply.equals("ok")) {
            return;
        }
        if (reply.startsWith("error ")) {
            throw new DistributedException("rank " + world.rank() + ": " + reply.substring("error ".length()));
        }
        throw agentEnded(what);
    }

    /** The agent's next protocol line; Gloo writes notices of its own to the same stream, which are skipped. */
    private String reply() throws IOException {
        String line;
        while ((line = fromAgent.readLine()) != null) {
            if (line.equals("ok") || line.equals("ready") || line.startsWith("error ")) {
                return line;
            }
        }
        return "";
    }

    private DistributedException agentEnded(String what) {
        String status;
        try {
            status = agent.waitFor(5, TimeUnit.SECONDS) ? "exit code " + agent.exitValue() : "still running";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            status = "interrupted";
        }
        return new DistributedException("rank " + world.rank() + ": its c10d agent ended while " + what + " ("
                + status + "); see the agent's messages above");
    }

    private void ensureCapacity(long bytes) {
        if (shared != null && shared.capacity() >= bytes) {
            return;
        }
        if (bytes > Integer.MAX_VALUE) {
            throw new DistributedException("rank " + world.rank() + ": one collective over " + bytes
                    + " bytes exceeds the 2 GiB the shared memory maps at once");
        }
        long size = Math.min(Integer.MAX_VALUE, Math.max(bytes, Math.max(MIN_SHARED_BYTES,
                shared == null ? 0 : 2L * shared.capacity())));
        try {
            // written out, not left sparse: a full /dev/shm then fails here, not as a SIGBUS in a native copy
            ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
            for (long at = channel.size(); at < size; ) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), size - at));
                at += channel.write(zeros, at);
            }
            shared = channel.map(FileChannel.MapMode.READ_WRITE, 0, size);
        } catch (IOException e) {
            throw new DistributedException("rank " + world.rank() + ": cannot grow the memory shared with the c10d"
                    + " agent to " + size + " bytes in " + file.getParent() + " (" + e.getMessage() + "); a"
                    + " container's /dev/shm is often 64 MB: give it more (docker --shm-size, a memory-backed"
                    + " emptyDir at /dev/shm in Kubernetes)", e);
        }
    }

    /** In /dev/shm where there is one (memory, not disk), else the temporary folder. */
    private static Path sharedFile(World world) {
        Path shm = Path.of("/dev/shm");
        Path dir = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
        return dir.resolve("peft4j-c10d-" + ProcessHandle.current().pid() + "-rank" + world.rank() + "-"
                + Long.toHexString(System.nanoTime()));
    }

    private static String javaCommand() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        if (Files.isExecutable(java)) {
            return java.toString();
        }
        return ProcessHandle.current().info().command().orElse("java");
    }

    private static void cleanUp(Process agent, FileChannel channel, Path file) {
        if (agent != null) {
            agent.destroyForcibly();
        }
        try {
            if (channel != null) {
                channel.close();
            }
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // best effort: the file is in memory and small unless a collective grew it
        }
    }
}
