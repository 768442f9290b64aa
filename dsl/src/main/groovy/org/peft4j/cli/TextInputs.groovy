package org.peft4j.cli

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.data.DataFileException

import java.nio.charset.CharacterCodingException
import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.nio.file.Path

/**
 * The texts of an input file for perplexity and embed: a JSONL file (*.jsonl, *.json) gives one
 * field of every object, any other file its non-blank lines. Each text keeps its 1-based line number,
 * so output rows can be joined back to the input.
 */
final class TextInputs {

    /** One text and where it came from; {@code id} is the JSON object's "id" field, when it has one. */
    static class Line {
        final long number
        final String text
        final Object id

        Line(long number, String text, Object id) {
            this.number = number
            this.text = text
            this.id = id
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper()

    private TextInputs() {
    }

    static boolean isJsonl(Path file) {
        String name = file.fileName.toString()
        name.endsWith('.jsonl') || name.endsWith('.json')
    }

    static List<Line> read(Path file, String field) {
        Models.inputFile(file, 'input')
        List<String> lines
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8)
        } catch (CharacterCodingException ignored) {
            throw new DataFileException(file, 0, 'not valid UTF-8; the file must be UTF-8 encoded')
        }
        boolean jsonl = isJsonl(file)
        List<Line> out = []
        lines.eachWithIndex { String line, int i ->
            if (line.isBlank()) {
                return
            }
            if (!jsonl) {
                out << new Line(i + 1, line, null)
                return
            }
            JsonNode o
            try {
                o = JSON.readTree(line)
            } catch (IOException e) {
                throw new DataFileException(file, i + 1, "not a JSON object: ${e.originalMessage}")
            }
            JsonNode text = o?.get(field)
            if (text == null || !text.isTextual()) {
                throw new DataFileException(file, i + 1, "no text field '${field}' (expected e.g. {\"${field}\": \"...\"};" +
                        ' choose another field with --field)')
            }
            JsonNode id = o.get('id')
            out << new Line(i + 1, text.textValue(), id == null || id.isNull() ? null : (id.isNumber() ? id.numberValue() : id.asText()))
        }
        if (out.isEmpty()) {
            throw new DataFileException(file, 0, 'no texts: the file is empty or has only blank lines')
        }
        out
    }
}
