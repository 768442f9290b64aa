package org.peft4j.run;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code metrics.csv}: the rows of {@code metrics.jsonl} as one flat table for a spreadsheet. The
 * columns are every field seen, in first-seen order; a row leaves the fields it lacks empty.
 */
final class MetricsCsv {

    private MetricsCsv() {
    }

    static void write(List<JsonNode> rows, Path file) throws IOException {
        Set<String> columns = new LinkedHashSet<>();
        for (JsonNode row : rows) {
            row.fieldNames().forEachRemaining(columns::add);
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.join(",", columns)).append('\n');
        for (JsonNode row : rows) {
            List<String> cells = new ArrayList<>();
            for (String c : columns) {
                JsonNode v = row.get(c);
                cells.add(v == null || v.isNull() ? "" : cell(v.asText()));
            }
            sb.append(String.join(",", cells)).append('\n');
        }
        AtomicFiles.writeString(file, sb.toString());
    }

    /** RFC 4180 quoting, for the free-text "when" column. */
    private static String cell(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0) {
            return s;
        }
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
