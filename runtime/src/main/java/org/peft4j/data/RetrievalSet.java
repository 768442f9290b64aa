package org.peft4j.data;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Queries, a corpus, and which documents are relevant to each query (with a graded relevance).
 *
 * <p>Files: the corpus is {@code {"id": "d1", "text": "..."}} per line; a query is
 * {@code {"id": "q1", "text": "...", "relevant": ["d1"]}} (each listed document has relevance 1)
 * or {@code "relevant": {"d1": 2, "d7": 1}} (graded).
 *
 * @param queries   query texts
 * @param corpus    document texts
 * @param relevance per query, document index to relevance (&gt; 0)
 */
public record RetrievalSet(List<String> queries, List<String> corpus, List<Map<Integer, Double>> relevance) {

    public RetrievalSet {
        if (queries.size() != relevance.size()) {
            throw new IllegalArgumentException(queries.size() + " queries but " + relevance.size() + " relevance maps");
        }
        queries = List.copyOf(queries);
        corpus = List.copyOf(corpus);
        relevance = relevance.stream().map(Map::copyOf).toList();
    }

    /** Reads a query file and a corpus file; every relevant id must be in the corpus. */
    public static RetrievalSet read(Path queriesFile, Path corpusFile, int queryLimit) {
        Map<String, Integer> docIndex = new HashMap<>();
        List<String> corpus = new ArrayList<>();
        JsonLines.read(corpusFile, 0, "{\"id\": \"d1\", \"text\": \"...\"}", (o, line) -> {
            String id = JsonLines.text(o, "id", "the document id");
            if (docIndex.putIfAbsent(id, corpus.size()) != null) {
                throw new JsonLines.BadLine("document id '" + id + "' appears twice in the corpus");
            }
            corpus.add(JsonLines.text(o, "text", "the document text"));
            return id;
        });
        List<String> queries = new ArrayList<>();
        List<Map<Integer, Double>> relevance = new ArrayList<>();
        JsonLines.read(queriesFile, queryLimit, "{\"id\": \"q1\", \"text\": \"...\", \"relevant\": [\"d1\"]}",
                (o, line) -> {
                    String text = JsonLines.text(o, "text", "the query text");
                    Map<Integer, Double> rel = relevant(o.get("relevant"), docIndex, corpusFile);
                    queries.add(text);
                    relevance.add(rel);
                    return text;
                });
        return new RetrievalSet(queries, corpus, relevance);
    }

    private static Map<Integer, Double> relevant(JsonNode node, Map<String, Integer> docIndex, Path corpusFile)
            throws JsonLines.BadLine {
        Map<String, Double> graded = new LinkedHashMap<>();
        if (node != null && node.isArray()) {
            for (JsonNode id : node) {
                graded.put(id.asText(), 1.0);
            }
        } else if (node != null && node.isObject()) {
            var fields = node.fields();
            while (fields.hasNext()) {
                var e = fields.next();
                if (!e.getValue().isNumber() || !(e.getValue().doubleValue() > 0)) {
                    throw new JsonLines.BadLine("relevance of '" + e.getKey() + "' must be a number > 0, found "
                            + e.getValue());
                }
                graded.put(e.getKey(), e.getValue().doubleValue());
            }
        } else {
            throw new JsonLines.BadLine("field 'relevant' must list document ids, e.g. [\"d1\"] or {\"d1\": 2},"
                    + " found " + node);
        }
        if (graded.isEmpty()) {
            throw new JsonLines.BadLine("field 'relevant' is empty; every query needs at least one relevant document");
        }
        Map<Integer, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : graded.entrySet()) {
            Integer index = docIndex.get(e.getKey());
            if (index == null) {
                throw new JsonLines.BadLine("relevant document '" + e.getKey() + "' is not in " + corpusFile);
            }
            out.put(index, e.getValue());
        }
        return out;
    }
}
