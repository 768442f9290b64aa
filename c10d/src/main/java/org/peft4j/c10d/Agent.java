package org.peft4j.c10d;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.gloo.Device;
import org.bytedeco.pytorch.global.torch;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One worker's c10d endpoint: a process beside the worker that joins the job's Gloo process group and runs
 * its collectives on the file the worker shares with it.
 *
 * <p>It lives in its own JVM because the libtorch that has a usable c10d from Java (bytedeco's 2.10 presets)
 * cannot share a process with the libtorch 2.7.1 that DJL loads into the worker.
 *
 * <p>Arguments: {@code rank worldSize masterAddr masterPort sharedFile connectTimeoutSeconds
 * [collectiveTimeoutSeconds]}. Rank 0 serves the rendezvous store (c10d's TCPStore) at the master address.
 *
 * <p>Protocol, one line each way, on stdin and stdout (stdout carries nothing else):
 * <ul>
 *   <li>the agent says {@code ready} once the group is built, or {@code error <message>} and exits non-zero;</li>
 *   <li>{@code allreduce f32 <count>} / {@code allreduce f64 <count>}: sums the first {@code count} floats or
 *       doubles of the shared file over all workers, in place;</li>
 *   <li>{@code barrier}: returns once every worker's agent has called it;</li>
 *   <li>each answered by {@code ok}, or by {@code error <message>}; a failed collective leaves the group
 *       broken, so the agent then exits non-zero.</li>
 * </ul>
 * End of input (the worker closed it, or died) ends the agent, so that the peers' collectives fail at once
 * instead of waiting for a worker that is gone.
 */
public final class Agent {

    /** c10d's default for collectives: a peer may be busy (evaluating, saving a checkpoint) for a long time. */
    static final int DEFAULT_COLLECTIVE_TIMEOUT_SECONDS = 1800;

    private final int rank;
    private final int worldSize;
    private final String masterAddr;
    private final int masterPort;
    private final PrintStream protocol;

    private ProcessGroupGloo group;
    private int collectiveTimeoutSeconds;

    private Agent(int rank, int worldSize, String masterAddr, int masterPort, PrintStream protocol) {
        this.rank = rank;
        this.worldSize = worldSize;
        this.masterAddr = masterAddr;
        this.masterPort = masterPort;
        this.protocol = protocol;
    }

    public static void main(String[] args) throws Exception {
        // stdout is the protocol's; anything a library prints through System.out goes to the log instead
        PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        if (args.length < 6 || args.length > 7) {
            protocol.println("error usage: Agent rank worldSize masterAddr masterPort sharedFile connectTimeoutSeconds"
                    + " [collectiveTimeoutSeconds]");
            Runtime.getRuntime().halt(2);
        }
        int rank = Integer.parseInt(args[0]);
        int worldSize = Integer.parseInt(args[1]);
        Agent agent = new Agent(rank, worldSize, args[2], Integer.parseInt(args[3]), protocol);
        int connectTimeout = Integer.parseInt(args[5]);
        int collectiveTimeout = args.length == 7 ? Integer.parseInt(args[6]) : DEFAULT_COLLECTIVE_TIMEOUT_SECONDS;
        int status;
        try {
            loadNatives();
        } catch (Exception | LinkageError e) {
            protocol.println("error cannot load libtorch 2.10 (bytedeco pytorch): " + oneLine(e.toString()));
            Runtime.getRuntime().halt(1);
        }
        try (SharedBuffer shared = new SharedBuffer(Path.of(args[4]))) {
            agent.join(connectTimeout, collectiveTimeout);
            protocol.println("ready");
            status = agent.serve(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), shared);
        } catch (Failure e) {
            protocol.println("error " + e.getMessage());
            status = 1;
        } catch (RuntimeException e) {
            protocol.println("error " + oneLine(e.getMessage()));
            status = 1;
        }
        // no native teardown: the group's destructors may wait on peers that are gone
        protocol.flush();
        Runtime.getRuntime().halt(status);
    }

    /**
     * Loads libtorch. The first time on a machine, one agent at a time: JavaCPP unpacks it into a cache that all
     * processes share, and an agent that loads a library another is still writing dies of SIGBUS. Once one
     * agent has loaded it, a marker lets the others load at once, side by side.
     */
    private static void loadNatives() throws IOException {
        Path cache = Loader.getCacheDir().toPath();
        Files.createDirectories(cache);
        Path marker = cache.resolve("peft4j-c10d-" + Path.of(codeSource(torch.class)).getFileName() + ".unpacked");
        if (!Files.exists(marker)) {
            try (FileChannel channel = FileChannel.open(cache.resolve("peft4j-c10d-load.lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = channel.lock()) {
                Loader.load(torch.class);
                Files.write(marker, new byte[0]);
            }
        } else {
            Loader.load(torch.class);
        }
        // c10's log level comes from TORCH_CPP_LOG_LEVEL only once this is called (Python's torch calls it)
        torch.initLogging();
    }

    private static String codeSource(Class<?> type) {
        try {
            return type.getProtectionDomain().getCodeSource().getLocation().toURI().getPath();
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return "pytorch";
        }
    }

    private void join(int connectTimeoutSeconds, int collectiveTimeoutSeconds) {
        TCPStore store = store(connectTimeoutSeconds);
        Device device = device();
        ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create(new Milliseconds(connectTimeoutSeconds * 1000L));
        options.devices(new GlooDeviceVector(device));
        try {
            group = new ProcessGroupGloo(store, rank, worldSize, options);
        } catch (RuntimeException e) {
            throw new Failure("could not gather all " + worldSize + " workers at the master " + address() + " within "
                    + connectTimeoutSeconds + " s (" + oneLine(e.getMessage()) + ")");
        }
        this.collectiveTimeoutSeconds = collectiveTimeoutSeconds;
        // the long wait applies from here on: connecting is over, peers may now be busy for minutes
        group.setTimeout(new Milliseconds(collectiveTimeoutSeconds * 1000L));
    }

    private TCPStore store(int timeoutSeconds) {
        TCPStoreOptions options = new TCPStoreOptions();
        options.port((short) masterPort);
        options.isServer(rank == 0);
        options.waitWorkers(false);
        options.timeout(new Milliseconds(timeoutSeconds * 1000L));
        try {
            return new TCPStore(masterAddr, options);
        } catch (RuntimeException e) {
            String what = rank == 0
                    ? "could not serve the rendezvous at " + address() + " (is the port taken?)"
                    : "could not reach the master at " + address() + " within " + timeoutSeconds + " s";
            throw new Failure(what + " (" + oneLine(e.getMessage()) + ")");
        }
    }

    /**
     * The network device Gloo talks through: GLOO_SOCKET_IFNAME's interface when set (as in PyTorch), the
     * loopback device for a master on this machine, else the interface this host's name resolves to.
     */
    private Device device() {
        String iface = System.getenv("GLOO_SOCKET_IFNAME");
        if (iface != null && !iface.isBlank()) {
            return ProcessGroupGloo.createDeviceForInterface(iface.trim());
        }
        try {
            if (InetAddress.getByName(masterAddr).isLoopbackAddress()) {
                return ProcessGroupGloo.createDeviceForHostname("127.0.0.1");
            }
        } catch (java.net.UnknownHostException e) {
            throw new Failure("the master address " + masterAddr + " does not resolve");
        }
        return ProcessGroupGloo.createDefaultDevice();
    }

    private int serve(BufferedReader in, SharedBuffer shared) throws Exception {
        AllreduceOptions sum = new AllreduceOptions();
        sum.reduceOp(new ReduceOp(ReduceOp.RedOpType.SUM));
        String line;
        while ((line = in.readLine()) != null) {
            String[] words = line.trim().split("\\s+");
            try {
                if (words.length == 3 && words[0].equals("allreduce")) {
                    long count = Long.parseLong(words[2]);
                    Tensor view = switch (words[1]) {
                        case "f32" -> shared.view(torch.ScalarType.Float, count, Float.BYTES);
                        case "f64" -> shared.view(torch.ScalarType.Double, count, Double.BYTES);
                        default -> throw new IllegalArgumentException("no element type '" + words[1] + "' (f32, f64)");
                    };
                    run("allreduce", () -> group.allreduce(new TensorVector(view), sum)._wait());
                } else if (words.length == 1 && words[0].equals("barrier")) {
                    run("barrier", () -> group.barrier()._wait());
                } else {
                    protocol.println("error no such request '" + line + "' (allreduce f32|f64 COUNT, barrier)");
                    continue;
                }
                protocol.println("ok");
            } catch (Failure e) {
                protocol.println("error " + e.getMessage());
                return 1;
            } catch (IllegalArgumentException | IOException e) {
                protocol.println("error " + oneLine(e.getMessage()));
            }
        }
        return 0;
    }

    private void run(String what, Runnable collective) {
        try {
            collective.run();
        } catch (RuntimeException e) {
            String message = oneLine(e.getMessage());
            String lower = message.toLowerCase();
            if (lower.contains("timed out") || lower.contains("timeout")) {
                throw new Failure("a peer did not join the " + what + " within " + collectiveTimeoutSeconds
                        + " s (PEFT4J_DIST_COLLECTIVE_TIMEOUT): " + message);
            }
            throw new Failure("lost a peer during " + what + ": " + message);
        }
    }

    private String address() {
        return masterAddr + ":" + masterPort;
    }

    private static String oneLine(String message) {
        if (message == null) {
            return "(no message)";
        }
        // c10d's messages carry a C++ stack trace after the first lines; the first line says what happened
        String first = message.strip().lines().findFirst().orElse("");
        // and Gloo's begin with the build machine's source path, which tells a user nothing
        first = first.replaceFirst("^\\[[^\\]]*\\.(cc|cpp|h):\\d+\\]\\s*", "");
        return first.length() > 400 ? first.substring(0, 400) + " ..." : first;
    }

    /** A failure the worker must hear about, worded for its user. */
    private static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }
}
