package org.peft4j.dist;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Starts N workers of one command on this machine, as torchrun's {@code --nproc-per-node} does: N child JVMs
 * of this JVM (the same java, class path, JVM options and system properties) running {@code mainClass} with
 * the given arguments, each with torchrun's environment ({@code RANK}, {@code LOCAL_RANK}, {@code WORLD_SIZE},
 * {@code MASTER_ADDR=127.0.0.1}, a free {@code MASTER_PORT}) and its share of the cores as intra-op threads.
 * Rank 0's output passes through; the other workers' lines go to standard error prefixed {@code [rank k]}.
 * When a worker exits with a non-zero code, the others are stopped within seconds and its code is returned;
 * when this JVM is stopped (Ctrl-C), so are they.
 */
public final class LocalLauncher {

    /**
     * The launch's local time (yyyyMMdd-HHmmss), the same for every worker, so that workers that name
     * something by the time (a run directory) name the same thing.
     */
    public static final String STAMP = "PEFT4J_LAUNCH_STAMP";

    /** How long a stopped worker gets to exit before it is killed. */
    private static final long GRACE_MILLIS = 3000;

    private final int workers;
    private final String mainClass;
    private final List<String> args;
    private final PrintWriter err;

    /**
     * @param workers   the number of workers (at least 1)
     * @param mainClass the class each worker runs
     * @param args      the arguments each worker gets (without the option that asked for workers)
     * @param err       where the launcher's own messages and the other ranks' lines go
     */
    public LocalLauncher(int workers, String mainClass, List<String> args, PrintWriter err) {
        if (workers < 1) {
            throw new IllegalArgumentException("--nproc is " + workers + "; it must be at least 1");
        }
        this.workers = workers;
        this.mainClass = mainClass;
        this.args = List.copyOf(args);
        this.err = err;
    }

    /** Intra-op threads per worker: this machine's cores shared out, at least one. */
    public static int threadsPerWorker(int workers) {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / workers);
    }

    /** A TCP port free on this machine now, for rank 0's store. */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free TCP port on 127.0.0.1 for the workers' master: " + e.getMessage(), e);
        }
    }

    /** The command of one worker: this JVM again, running {@code mainClass}. */
    List<String> command(int threads) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(
                System.getProperty("java.home") + "/bin/java"));
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // the debugger's agent would make every worker listen on the same port
            if (!option.startsWith("-agentlib:jdwp")) {
                cmd.add(option);
            }
        }
        cmd.add("-Dai.djl.pytorch.num_threads=" + threads);
        cmd.add("-Dai.djl.pytorch.num_interop_threads=1");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        return cmd;
    }

    /** Starts the workers and waits for them; returns 0 when every one succeeded, else the first failure's code. */
    public int run() {
        int port = freePort();
        int threads = threadsPerWorker(workers);
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        List<Process> processes = new ArrayList<>();
        List<Thread> pumps = new ArrayList<>();
        Thread stopper = new Thread(() -> stopAll(processes), "stop-workers");
        Runtime.getRuntime().addShutdownHook(stopper);
        try {
            for (int rank = 0; rank < workers; rank++) {
                ProcessBuilder pb = new ProcessBuilder(command(threads));
                Map<String, String> env = pb.environment();
                env.put("RANK", Integer.toString(rank));
                env.put("LOCAL_RANK", Integer.toString(rank));
                env.put("WORLD_SIZE", Integer.toString(workers));
                env.put("LOCAL_WORLD_SIZE", Integer.toString(workers));
                env.put("MASTER_ADDR", "127.0.0.1");
                env.put("MASTER_PORT", Integer.toString(port));
                env.put(STAMP, stamp);
                env.put("OMP_NUM_THREADS", Integer.toString(threads));
                env.put("MKL_NUM_THREADS", Integer.toString(threads));
                if (rank == 0) {
                    pb.inheritIO();
                } else {
                    pb.redirectInput(ProcessBuilder.Redirect.INHERIT);
                }
                Process p = start(pb, rank);
                processes.add(p);
                if (rank > 0) {
                    pumps.add(pump(p.getInputStream(), rank));
                    pumps.add(pump(p.getErrorStream(), rank));
                }
            }
            int code = supervise(processes);
            for (Thread t : pumps) {
                t.join(GRACE_MILLIS);
            }
            return code;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopAll(processes);
            return 130;
        } finally {
            stopAll(processes);
            try {
                Runtime.getRuntime().removeShutdownHook(stopper);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run
            }
        }
    }

    private Process start(ProcessBuilder pb, int rank) {
        try {
            return pb.start();
        } catch (IOException e) {
            throw new DistributedException("could not start worker " + rank + " (" + pb.command().get(0) + "): "
                    + e.getMessage(), e);
        }
    }

    /**
     * Waits until every worker has exited, or one failed; then stops the rest. Exits are taken in the order they
     * happen, so the worker named is the one that failed first, not one that failed because it lost a peer.
     */
    private int supervise(List<Process> processes) throws InterruptedException {
        BlockingQueue<Integer> exited = new LinkedBlockingQueue<>();
        for (int rank = 0; rank < processes.size(); rank++) {
            int r = rank;
            processes.get(rank).onExit().thenRun(() -> exited.add(r));
        }
        for (int left = processes.size(); left > 0; left--) {
            int rank = exited.take();
            int code = processes.get(rank).exitValue();
            if (code != 0) {
                err.println("peft4j: worker rank " + rank + " of " + processes.size() + " exited with code " + code
                        + (code > 128 ? " (signal " + (code - 128) + ")" : "") + "; stopping the other workers");
                err.flush();
                stopAll(processes);
                return code;
            }
        }
        return 0;
    }

    /** Asks every live worker to stop, and kills those still alive after the grace time. */
    private static void stopAll(List<Process> processes) {
        List<Process> alive = new ArrayList<>();
        for (Process p : List.copyOf(processes)) {
            if (p.isAlive()) {
                p.destroy();
                alive.add(p);
            }
        }
        long deadline = System.currentTimeMillis() + GRACE_MILLIS;
        for (Process p : alive) {
            try {
                if (!p.waitFor(Math.max(0, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Copies a worker's output to {@code err}, each line prefixed with its rank. */
    private Thread pump(InputStream in, int rank) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (err) {
                        err.println("[rank " + rank + "] " + line);
                        err.flush();
                    }
                }
            } catch (IOException closed) {
                // the worker was stopped
            }
        }, "rank-" + rank + "-output");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
