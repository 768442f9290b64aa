package org.peft4j.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The PyTorch anchor run as a child process: Hugging Face Transformers + PEFT on the same model, batch,
 * rank and step ({@code pytorch_anchor.py}, packaged beside this class), timed in fp32 eager and under
 * bfloat16 autocast. The child gets the environment the {@code peft4j} launcher gives this JVM (OpenMP
 * wait policy, glibc's allocator settings), so both sides run alike.
 *
 * @param python an interpreter with torch, transformers and peft (a developer tool, never a test dependency)
 */
public record Anchor(String python) {

    /** Modes the anchor script knows, by the bench case they stand beside. */
    public static String modeOf(String caseName) {
        String base = caseName.endsWith(Benchmark.BF16)
                ? caseName.substring(0, caseName.length() - Benchmark.BF16.length()) : caseName;
        return switch (base) {
            case "lora", "adalora", "full" -> base;
            case "base" -> "inference";
            default -> null;
        };
    }

    /**
     * Runs the anchor once for {@code modes} in both precisions and reads what it measured.
     *
     * @param modelDir the Hugging Face directory both sides load
     */
    public Reference run(Path modelDir, List<String> modes, int batch, int seqLen, int warmup, int repeats, int r,
                         int threads) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("peft4j-anchor");
        Path script = dir.resolve("pytorch_anchor.py");
        Path json = dir.resolve("anchor.json");
        try (InputStream in = Anchor.class.getResourceAsStream("pytorch_anchor.py")) {
            Files.copy(in, script);
        }
        try {
            List<String> cmd = new ArrayList<>(List.of(python, script.toString(), "--model", modelDir.toString(),
                    "--batch", Integer.toString(batch), "--seq", Integer.toString(seqLen),
                    "--warmup", Integer.toString(warmup), "--repeats", Integer.toString(repeats),
                    "--r", Integer.toString(r), "--threads", Integer.toString(threads),
                    "--modes", String.join(",", modes), "--precisions", "fp32,bf16", "--json", json.toString()));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            p.getInputStream().transferTo(out);
            int code = p.waitFor();
            if (code != 0 || !Files.isRegularFile(json)) {
                throw new IOException("the PyTorch anchor failed (exit " + code + "): " + String.join(" ", cmd) + "\n"
                        + tail(out.toString(StandardCharsets.UTF_8)));
            }
            return Reference.read(json);
        } finally {
            Files.deleteIfExists(json);
            Files.deleteIfExists(script);
            Files.deleteIfExists(dir);
        }
    }

    private static String tail(String s) {
        String[] lines = s.split("\n");
        return String.join("\n", List.of(lines).subList(Math.max(0, lines.length - 15), lines.length));
    }
}
