package org.peft4j.bench;

import org.peft4j.run.MemoryStats;
import org.peft4j.tensor.Backend;
import org.peft4j.tensor.BackendConfig;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Peak memory of one case, measured in a fresh child JVM with a small heap. In the benchmark's own
 * process the peak resident set is dominated by whatever the JVM heap and DJL's direct buffers grew
 * to over earlier cases; a child that only loads the model and runs a few steps of one case gives
 * each case the same fixed cost (JVM, heap cap, libtorch), so the difference between cases is the
 * difference in tensors: weights, gradients, optimizer state and activations.
 *
 * @param startRssBytes resident set after the engine started, before the model was built
 * @param peakRssBytes  the child's peak resident set (VmHWM) after the steps
 */
public record MemoryProbe(long startRssBytes, long peakRssBytes) {

    /** The child's heap cap: enough for loading a checkpoint, small enough not to hide tensor memory. */
    public static final String HEAP = "-Xmx768m";

    /** Tensor-side peak: the peak minus what the process held before the model existed. */
    public long tensorPeakBytes() {
        return peakRssBytes - startRssBytes;
    }

    /** Runs {@code steps} timed repeats (after one warm-up) of case {@code name} in a child JVM. */
    public static MemoryProbe measure(String model, int batch, int seqLen, int r, String name, int steps,
                                      Integer threads) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                HEAP, "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                MemoryProbe.class.getName(), model, Integer.toString(batch), Integer.toString(seqLen),
                Integer.toString(r), name, Integer.toString(steps), threads == null ? "0" : threads.toString()));
        Process p = new ProcessBuilder(cmd).start();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread drain = new Thread(() -> copy(p.getErrorStream(), err));
        drain.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        int code = p.waitFor();
        drain.join();
        String last = out.isEmpty() ? "" : out.substring(out.lastIndexOf('\n') + 1);
        if (code != 0 || !last.startsWith("rss ")) {
            throw new IOException("memory probe for case '" + name + "' failed (exit " + code + "): "
                    + err.toString(StandardCharsets.UTF_8) + out);
        }
        String[] f = last.split(" ");
        return new MemoryProbe(Long.parseLong(f[1]), Long.parseLong(f[2]));
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        try {
            in.transferTo(out);
        } catch (IOException e) {
            // the child died; its exit code tells
        }
    }

    /** Child side: {@code model batch seqLen r case steps threads}; prints "rss START PEAK". */
    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[6]);
        Backend.start(new BackendConfig("cpu", "float32", threads));
        Backend.get().manager().zeros(new ai.djl.ndarray.types.Shape(1)).close();
        long start = MemoryStats.rssBytes();
        int steps = Integer.parseInt(args[5]);
        try (Workload w = Workload.open(args[0], Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                Backend.get().manager())) {
            Benchmark b = new Benchmark(w, new Benchmark.Options(1, steps, Integer.parseInt(args[3])),
                    new PrintStream(PrintStream.nullOutputStream()));
            try (Benchmark.Runner runner = b.runner(args[4])) {
                for (int i = 0; i < steps + 1; i++) {
                    runner.run();
                }
            }
        }
        System.out.println("rss " + start + " " + MemoryStats.peakRssBytes());
        System.exit(0);
    }
}
