package org.peft4j.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Walks the JSON objects of a JSONL file for the embedding readers ({@link PairJsonl}), with the
 * same error style as {@link JsonlReader}: every problem is a {@link DataFileException} naming
 * {@code file:line} and what was expected. Lines are split as bytes before decoding, so a bad
 * byte is reported on its own line; blank lines are skipped.
 */
final class JsonLines {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** Turns one JSON object into a value, or explains why it cannot with a {@link BadLine}. */
    @FunctionalInterface
    interface LineParser<T> {
        T parse(JsonNode object, long line) throws BadLine;
    }

    /** A line that cannot be used; its message becomes the text after {@code file:line:}. */
    static final class BadLine extends Exception {
        BadLine(String message) {
            super(message, null, false, false);
        }
    }

    private JsonLines() {
    }

    /**
     * Parses every non-blank line of {@code file}, stopping after {@code limit} values (0: all).
     *
     * @param example one valid line, quoted in the message for an empty file
     */
    static <T> List<T> read(Path file, int limit, String example, LineParser<T> parser) {
        if (!Files.isRegularFile(file)) {
            throw new DataFileException(file, 0, "no such file (expected a JSONL file with one JSON object per line,"
                    + " e.g. " + example + ")");
        }
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        List<T> out = new ArrayList<>();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            long lineNo = 0;
            boolean more = true;
            while (more && (limit <= 0 || out.size() < limit)) {
                line.reset();
                int b;
                while ((b = in.read()) >= 0 && b != '\n') {
                    line.write(b);
                }
                more = b >= 0;
                if (!more && line.size() == 0) {
                    break;
                }
                lineNo++;
                String text;
                try {
                    text = utf8.decode(ByteBuffer.wrap(line.toByteArray())).toString();
                } catch (CharacterCodingException e) {
                    throw new DataFileException(file, lineNo, "not valid UTF-8; the file must be UTF-8 encoded"
                            + " (convert it, e.g. iconv -f latin1 -t utf-8)");
                }
                if (lineNo == 1 && text.startsWith("\uFEFF")) {
                    text = text.substring(1);
                }
                if (text.isBlank()) {
                    continue;
                }
                try {
                    out.add(parser.parse(object(text), lineNo));
                } catch (BadLine e) {
                    throw new DataFileException(file, lineNo, e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new DataFileException(file, 0, "no examples: the file is empty or has only blank lines"
                    + " (expected one JSON object per line, e.g. " + example + ")");
        }
        return out;
    }

    private static JsonNode object(String line) throws BadLine {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new BadLine("malformed JSON (" + e.getOriginalMessage() + "); expected one JSON object per line");
        }
        if (node == null || !node.isObject()) {
            throw new BadLine("expected a JSON object, found " + (node == null ? "nothing" : node.getNodeType()
                    .name().toLowerCase()));
        }
        return node;
    }

    /** The string field {@code name}; missing or non-string fields are bad lines that list what is there. */
    static String text(JsonNode object, String name, String role) throws BadLine {
        JsonNode v = object.get(name);
        if (v == null) {
            List<String> present = new ArrayList<>();
            object.fieldNames().forEachRemaining(present::add);
            throw new BadLine("missing field '" + name + "' (" + role + "); the object has fields " + present);
        }
        if (!v.isTextual()) {
            throw new BadLine("field '" + name + "' (" + role + ") must be a string, found "
                    + v.getNodeType().name().toLowerCase());
        }
        return v.textValue();
    }
}
