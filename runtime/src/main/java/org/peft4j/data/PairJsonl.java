package org.peft4j.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Readers for the three kinds of sentence-embedding training data. Errors name {@code file:line}
 * and the expected shape, as {@link JsonlReader}'s do.
 * <ul>
 *   <li>pairs: {@code {"anchor": "...", "positive": "..."[, "negative": "..."]}}</li>
 *   <li>scored pairs: {@code {"a": "...", "b": "...", "score": 0.8}}</li>
 *   <li>sentences: JSONL with a {@code "text"} field (files ending in {@code .jsonl} or {@code .json}),
 *       otherwise plain text with one sentence per non-blank line</li>
 * </ul>
 */
public final class PairJsonl {

    private PairJsonl() {
    }

    /**
     * Reads (anchor, positive[, negative]) pairs. Either every line has a negative or none has one,
     * so that batches have a fixed number of columns.
     *
     * @param limit keep at most this many, the first ones in the file (0: all)
     */
    public static List<TextPair> pairs(Path file, int limit) {
        List<TextPair> pairs = JsonLines.read(file, limit, "{\"anchor\": \"...\", \"positive\": \"...\"}",
                (o, line) -> new TextPair(
                        JsonLines.text(o, "anchor", "the anchor text"),
                        JsonLines.text(o, "positive", "the text that belongs with the anchor"),
                        o.has("negative") ? JsonLines.text(o, "negative", "a hard negative") : null, line));
        boolean withNegative = pairs.get(0).negative() != null;
        for (TextPair p : pairs) {
            if ((p.negative() != null) != withNegative) {
                throw new DataFileException(file, p.line(), (withNegative ? "no" : "a") + " 'negative' field, but line "
                        + pairs.get(0).line() + " " + (withNegative ? "has one" : "has none")
                        + "; give a hard negative on every line or on none");
            }
        }
        return pairs;
    }

    /** Reads scored pairs; scores must be finite numbers. */
    public static List<ScoredPair> scored(Path file, int limit) {
        return JsonLines.read(file, limit, "{\"a\": \"...\", \"b\": \"...\", \"score\": 0.8}", (o, line) -> {
            String a = JsonLines.text(o, "a", "the first text");
            String b = JsonLines.text(o, "b", "the second text");
            var s = o.get("score");
            if (s == null || !s.isNumber() || !Double.isFinite(s.doubleValue())) {
                throw new JsonLines.BadLine("field 'score' must be a finite number, found " + s);
            }
            return new ScoredPair(a, b, s.doubleValue(), line);
        });
    }

    /** Reads sentences: the {@code text} field of a JSONL file, or the non-blank lines of a text file. */
    public static List<String> sentences(Path file, int limit) {
        String name = file.getFileName().toString();
        if (name.endsWith(".jsonl") || name.endsWith(".json")) {
            return JsonLines.read(file, limit, "{\"text\": \"...\"}",
                    (o, line) -> JsonLines.text(o, "text", "the sentence"));
        }
        if (!Files.isRegularFile(file)) {
            throw new DataFileException(file, 0, "no such file (expected one sentence per line, or a .jsonl file"
                    + " with a \"text\" field)");
        }
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    out.add(line.strip());
                    if (limit > 0 && out.size() >= limit) {
                        break;
                    }
                }
            }
        } catch (CharacterCodingException e) {
            throw new DataFileException(file, 0, "not valid UTF-8; the file must be UTF-8 encoded");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new DataFileException(file, 0, "no sentences: the file is empty or has only blank lines");
        }
        return out;
    }
}
