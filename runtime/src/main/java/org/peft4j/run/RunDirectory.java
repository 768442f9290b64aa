package org.peft4j.run;

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
import java.util.Map;

/**
 * The files of one run: the recipe copy, {@code metrics.jsonl} (one line per step and per
 * evaluation, appended as they happen), {@code summary.json} and the adapter folder.
 */
public final class RunDirectory implements TrainingListener, AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper LINE = new ObjectMapper();

    private final Path dir;
    private final BufferedWriter metrics;

    private RunDirectory(Path dir) throws IOException {
        this.dir = dir;
        this.metrics = Files.newBufferedWriter(dir.resolve("metrics.jsonl"), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Creates the directory; refuses one that already holds a run, so no result is overwritten. */
    public static RunDirectory create(Path dir) throws IOException {
        if (Files.exists(dir.resolve("summary.json")) || Files.exists(dir.resolve("metrics.jsonl"))) {
            throw new IOException("run directory " + dir + " already holds a run; choose another --out");
        }
        Files.createDirectories(dir);
        return new RunDirectory(dir);
    }

    public Path path() {
        return dir;
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
        line(n);
    }

    @Override
    public void onEval(String split, String when, Map<String, Double> m) {
        ObjectNode n = LINE.createObjectNode();
        n.put("type", "eval");
        n.put("split", split);
        n.put("when", when);
        m.forEach(n::put);
        line(n);
    }

    private void line(ObjectNode n) {
        try {
            metrics.write(LINE.writeValueAsString(n));
            metrics.newLine();
            metrics.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + dir.resolve("metrics.jsonl"), e);
        }
    }

    @Override
    public void close() throws IOException {
        metrics.close();
    }
}
