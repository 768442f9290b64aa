package org.peft4j.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.io.AtomicFiles;
import org.peft4j.train.StepInfo;
import org.peft4j.train.TrainingListener;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The files of one run: the recipe copy, {@code metrics.jsonl} (one line per step and per
 * evaluation, appended as they happen), {@code checkpoints/}, {@code summary.json} and the adapter
 * folder.
 */
public final class RunDirectory implements TrainingListener, AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper LINE = new ObjectMapper();

    public static final String METRICS = "metrics.jsonl";

    private final Path dir;
    private final boolean resuming;
    private BufferedWriter metrics;

    private RunDirectory(Path dir, boolean resuming) throws IOException {
        this.dir = dir;
        this.resuming = resuming;
        this.metrics = appender();
    }

    private BufferedWriter appender() throws IOException {
        return Files.newBufferedWriter(dir.resolve(METRICS), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    /**
     * Opens {@code dir} for a run: a finished run (summary.json) is refused; an unfinished one
     * with checkpoints is resumed, asked or not; {@code resume} without checkpoints is refused, as
     * is an unfinished run that left none (nothing could be continued).
     */
    public static RunDirectory open(Path dir, boolean resume) throws IOException {
        if (Files.exists(dir.resolve("summary.json"))) {
            throw new IOException("run directory " + dir + " already holds a run (summary.json); choose another --out");
        }
        boolean hasCheckpoints = hasCheckpoints(dir.resolve("checkpoints"));
        if (resume && !hasCheckpoints) {
            throw new IOException("nothing to resume in " + dir + ": it has no checkpoints/step-* folder");
        }
        if (!hasCheckpoints && Files.exists(dir.resolve(METRICS))) {
            throw new IOException("run directory " + dir + " already holds a run that left no checkpoint to resume"
                    + " from; choose another --out (or delete it)");
        }
        Files.createDirectories(dir);
        return new RunDirectory(dir, hasCheckpoints);
    }

    /**
     * Whether {@link #open} would resume {@code dir}, read without writing anything: how workers other than
     * rank 0, which never write the run directory, know to restore its newest checkpoint.
     */
    public static boolean resumes(Path dir) throws IOException {
        return !Files.exists(dir.resolve("summary.json")) && hasCheckpoints(dir.resolve("checkpoints"));
    }

    private static boolean hasCheckpoints(Path d) throws IOException {
        if (!Files.isDirectory(d)) {
            return false;
        }
        try (var s = Files.list(d)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith("step-"));
        }
    }

    public Path path() {
        return dir;
    }

    /** True when the directory held checkpoints of an unfinished run when it was opened. */
    public boolean resuming() {
        return resuming;
    }

    public Path checkpointsDir() {
        return dir.resolve("checkpoints");
    }

    /** Every row of metrics.jsonl, in order. */
    public List<JsonNode> metricRows() throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve(METRICS), StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                try {
                    rows.add(LINE.readTree(line));
                } catch (IOException torn) {
                    // the last line of a killed run may be cut short; everything before it is whole
                }
            }
        }
        return rows;
    }

    /**
     * Drops the rows a killed run wrote after the checkpoint of {@code step} (train steps and
     * evaluations past it, and end-of-run rows), so that the resumed run's rows follow on.
     */
    public void truncateMetricsAfter(int step) throws IOException {
        metrics.close();
        StringBuilder kept = new StringBuilder();
        for (JsonNode row : metricRows()) {
            if (rowStep(row) <= step) {
                kept.append(LINE.writeValueAsString(row)).append('\n');
            }
        }
        AtomicFiles.writeString(dir.resolve(METRICS), kept.toString());
        metrics = appender();
    }

    /** The step a row belongs to: a train row's step, an evaluation's "step N"; 0 before training; after: MAX. */
    static int rowStep(JsonNode row) {
        if (row.has("step")) {
            return row.get("step").asInt();
        }
        return "before".equals(row.path("when").asText()) ? 0 : Integer.MAX_VALUE;
    }

    /** The evaluations of metrics.jsonl made {@code when} ("before"), by split. */
    public Map<String, Map<String, Double>> evals(String when) throws IOException {
        Map<String, Map<String, Double>> out = new LinkedHashMap<>();
        for (JsonNode row : metricRows()) {
            if ("eval".equals(row.path("type").asText()) && when.equals(row.path("when").asText())) {
                Map<String, Double> m = new LinkedHashMap<>();
                row.fields().forEachRemaining(f -> {
                    if (f.getValue().isNumber() && !f.getKey().equals("step")) {
                        m.put(f.getKey(), f.getValue().asDouble());
                    }
                });
                out.put(row.path("split").asText(), m);
            }
        }
        return out;
    }

    public Path adapterDir() {
        return dir.resolve("adapter");
    }

    public void copyRecipe(Path recipe) throws IOException {
        if (recipe != null) {
            Files.copy(recipe, dir.resolve(recipe.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    public void writeJson(String name, Object value) throws IOException {
        AtomicFiles.writeString(dir.resolve(name), JSON.writeValueAsString(value) + "\n");
    }

    @Override
    public void onStep(StepInfo s) {
        ObjectNode n = LINE.createObjectNode();
        n.put("type", "train");
        n.put("step", s.step());
        n.put("epoch", s.epoch());
        n.put("loss", s.loss());
        n.put("lr", s.lr());
        n.put("tokens", s.tokens());
        n.put("tokens_per_second", s.tokensPerSecond());
        n.put("step_seconds", s.seconds());
        if (s.commSeconds() > 0) {
            // time in the workers' collectives (waiting for the slowest worker included)
            n.put("comm_seconds", s.commSeconds());
        }
        line(n);
    }

    @Override
    public void onEval(String split, String when, Map<String, Double> m) {
        ObjectNode n = LINE.createObjectNode();
        n.put("type", "eval");
        n.put("split", split);
        n.put("when", when);
        if (when.startsWith("step ")) {
            n.put("step", Integer.parseInt(when.substring(5)));
        }
        m.forEach(n::put);
        line(n);
    }

    private void line(ObjectNode n) {
        try {
            metrics.write(LINE.writeValueAsString(n));
            metrics.newLine();
            metrics.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + dir.resolve(METRICS), e);
        }
    }

    @Override
    public void close() throws IOException {
        metrics.close();
    }
}
