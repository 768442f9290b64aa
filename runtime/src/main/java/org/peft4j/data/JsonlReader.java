package org.peft4j.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads labelled texts from a JSONL file: one JSON object per line, blank lines skipped, strict
 * UTF-8. Every problem names the file, the line and what was expected there.
 */
public final class JsonlReader {

    /** How many skipped lines' problems a {@link JsonlRead} keeps. */
    public static final int REPORTED_PROBLEMS = 10;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final String textField;
    private final String labelField;
    private final List<String> labels;
    private final Map<String, Integer> labelIndex = new HashMap<>();
    private final OnBadLine onBadLine;

    /**
     * @param textField  the JSON field holding the text (a string)
     * @param labelField the JSON field holding the label (a string, or an integer written as one of
     *                   the labels, e.g. labels ["0", "1"])
     * @param labels     the task's labels; a label's index in this list is its class id
     * @param onBadLine  stop at the first bad line, or skip and count bad lines
     */
    public JsonlReader(String textField, String labelField, List<String> labels, OnBadLine onBadLine) {
        if (textField == null || textField.isBlank() || labelField == null || labelField.isBlank()) {
            throw new IllegalArgumentException("text field and label field must be named, got text '" + textField
                    + "' and label '" + labelField + "'");
        }
        if (labels == null || labels.isEmpty()) {
            throw new IllegalArgumentException("no labels declared; a classification task needs at least one,"
                    + " e.g. labels: ['ham', 'spam']");
        }
        for (String label : labels) {
            if (labelIndex.putIfAbsent(label, labelIndex.size()) != null) {
                throw new IllegalArgumentException("label '" + label + "' is declared twice in " + labels);
            }
        }
        this.textField = textField;
        this.labelField = labelField;
        this.labels = List.copyOf(labels);
        this.onBadLine = onBadLine == null ? OnBadLine.FAIL : onBadLine;
    }

    public List<String> labels() {
        return labels;
    }

    /** Reads every example of {@code file}. */
    public JsonlRead read(Path file) {
        return read(file, 0);
    }

    /**
     * Reads the examples of {@code file}, stopping after {@code limit} usable ones (0: all).
     *
     * @throws DataFileException for a bad line (with {@link OnBadLine#FAIL}) or a file without
     *                           any usable example
     */
    public JsonlRead read(Path file, int limit) {
        if (!Files.isRegularFile(file)) {
            throw new DataFileException(file, 0, "no such file (expected a JSONL file with one JSON object per line)");
        }
        List<LabeledText> examples = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        long skipped = 0;
        long lineNo = 0;
        long nonBlank = 0;
        try (InputStream in = Files.newInputStream(file)) {
            LineSplitter lines = new LineSplitter(in);
            StrictUtf8 utf8 = new StrictUtf8();
            while (lines.next()) {
                lineNo++;
                try {
                    String line = utf8.decode(lines.bytes(), lines.length(), lineNo == 1);
                    if (line.isBlank()) {
                        continue;
                    }
                    nonBlank++;
                    examples.add(parse(line, lineNo));
                    if (limit > 0 && examples.size() >= limit) {
                        break;
                    }
                } catch (BadLine e) {
                    if (onBadLine == OnBadLine.FAIL) {
                        throw new DataFileException(file, lineNo, e.getMessage());
                    }
                    skipped++;
                    if (problems.size() < REPORTED_PROBLEMS) {
                        problems.add(file + ":" + lineNo + ": " + e.getMessage());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (examples.isEmpty()) {
            if (nonBlank == 0 && skipped == 0) {
                throw new DataFileException(file, 0, "no examples: the file is empty or has only blank lines"
                        + " (expected one JSON object per line, e.g. {\"" + textField + "\": \"...\", \""
                        + labelField + "\": \"" + labels.get(0) + "\"})");
            }
            throw new DataFileException(file, 0, "no usable examples: all " + skipped + " non-blank lines were bad;"
                    + " first: " + problems.get(0));
        }
        return new JsonlRead(file, examples, skipped, problems);
    }

    private LabeledText parse(String line, long lineNo) throws BadLine {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new BadLine("malformed JSON (" + e.getOriginalMessage() + "); expected one JSON object per line");
        }
        if (!node.isObject()) {
            throw new BadLine("expected a JSON object, found " + kind(node));
        }
        JsonNode text = field(node, textField, "text");
        if (!text.isTextual()) {
            throw new BadLine("field '" + textField + "' (the text) must be a string, found " + kind(text));
        }
        JsonNode label = field(node, labelField, "label");
        if (!label.isTextual() && !label.isIntegralNumber()) {
            throw new BadLine("field '" + labelField + "' (the label) must be a string, found " + kind(label)
                    + "; valid labels: " + labels);
        }
        Integer index = labelIndex.get(label.asText());
        if (index == null) {
            throw new BadLine("label '" + label.asText() + "' is not one of the declared labels " + labels);
        }
        return new LabeledText(text.asText(), index, lineNo);
    }

    private static JsonNode field(JsonNode object, String name, String role) throws BadLine {
        JsonNode value = object.get(name);
        if (value == null) {
            List<String> present = new ArrayList<>();
            object.fieldNames().forEachRemaining(present::add);
            throw new BadLine("missing field '" + name + "' (the " + role + "); the object has fields " + present);
        }
        return value;
    }

    private static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case BOOLEAN -> "a boolean (" + node.asText() + ")";
            case NUMBER -> "a number (" + node.asText() + ")";
            case NULL -> "null";
            case STRING -> "a string";
            default -> node.getNodeType().name().toLowerCase();
        };
    }

    /** A line that cannot be used; cheap because bad lines may be many when skipping. */
    private static final class BadLine extends Exception {
        BadLine(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Splits a byte stream at '\n'. Lines are split as bytes, before decoding, so that a bad byte
     * is reported on its own line: a decoding reader reads ahead and loses the line position.
     */
    private static final class LineSplitter {
        private final InputStream in;
        private final byte[] chunk = new byte[1 << 16];
        private int pos;
        private int end;
        private byte[] line = new byte[4096];
        private int length;

        LineSplitter(InputStream in) {
            this.in = in;
        }

        boolean next() throws IOException {
            length = 0;
            boolean any = false;
            while (true) {
                if (pos == end) {
                    int n = in.read(chunk);
                    if (n < 0) {
                        return any;
                    }
                    pos = 0;
                    end = n;
                    continue;
                }
                any = true;
                int start = pos;
                while (pos < end && chunk[pos] != '\n') {
                    pos++;
                }
                append(start, pos - start);
                if (pos < end) {
                    pos++;
                    return true;
                }
            }
        }

        private void append(int from, int n) {
            if (length + n > line.length) {
                line = Arrays.copyOf(line, Math.max(line.length * 2, length + n));
            }
            System.arraycopy(chunk, from, line, length, n);
            length += n;
        }

        byte[] bytes() {
            return line;
        }

        int length() {
            return length;
        }
    }

    /** UTF-8 that refuses malformed bytes instead of replacing them with U+FFFD. */
    private static final class StrictUtf8 {
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        private CharBuffer chars = CharBuffer.allocate(4096);

        String decode(byte[] bytes, int length, boolean first) throws BadLine {
            int from = 0;
            if (first && length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB
                    && (bytes[2] & 0xFF) == 0xBF) {
                from = 3;
            }
            if (length > from && bytes[length - 1] == '\r') {
                length--;
            }
            // UTF-8 never gives more chars than bytes.
            if (chars.capacity() < length) {
                chars = CharBuffer.allocate(Math.max(chars.capacity() * 2, length));
            }
            chars.clear();
            ByteBuffer in = ByteBuffer.wrap(bytes, from, length - from);
            decoder.reset();
            CoderResult result = decoder.decode(in, chars, true);
            if (!result.isError()) {
                result = decoder.flush(chars);
            }
            if (result.isError()) {
                int at = in.position();
                throw new BadLine(String.format("byte 0x%02X at byte offset %d of the line is not valid UTF-8;"
                        + " the file must be UTF-8 encoded (convert it, e.g. iconv -f latin1 -t utf-8)",
                        bytes[at] & 0xFF, at));
            }
            chars.flip();
            return chars.toString();
        }
    }
}
