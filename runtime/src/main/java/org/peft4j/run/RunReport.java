package org.peft4j.run;

import com.fasterxml.jackson.databind.JsonNode;
import org.peft4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The end-of-run files a person opens: {@code metrics.csv}, the PNG plots, and a one-page
 * {@code report.html} with the configuration, the plots and the metrics before and after training.
 */
public final class RunReport {

    public static final String HTML = "report.html";
    public static final String CSV = "metrics.csv";

    private RunReport() {
    }

    static void write(RunDirectory dir, RunConfig config, Summary summary) throws IOException {
        List<JsonNode> rows = dir.metricRows();
        MetricsCsv.write(rows, dir.path().resolve(CSV));
        List<String> plots = Plots.write(rows, summary.steps(), dir.path());
        Path configJson = dir.path().resolve("config.json");
        String configText = Files.exists(configJson) ? Files.readString(configJson) : String.valueOf(config);
        AtomicFiles.writeString(dir.path().resolve(HTML), html(config.name(), configText, plots, summary));
    }

    static String html(String name, String configText, List<String> plots, Summary s) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>").append(esc(name))
                .append("</title>\n<style>body{font-family:sans-serif;max-width:960px;margin:2em auto}"
                        + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}"
                        + "th:first-child,td:first-child{text-align:left}pre{background:#f6f6f6;padding:1em;overflow:auto;"
                        + "max-height:30em}img{max-width:100%}</style></head><body>\n");
        sb.append("<h1>").append(esc(name)).append("</h1>\n");
        sb.append(String.format("<p>%d optimizer steps; %,d of %,d parameters trained (%.3f%%); training %.1f s,"
                        + " wall %.1f s; %,.0f tokens/s; peak memory %.2f GiB.</p>%n", s.steps(), s.trainableParams(),
                s.totalParams(), s.totalParams() == 0 ? 0 : 100.0 * s.trainableParams() / s.totalParams(),
                s.trainSeconds(), s.wallSeconds(), s.tokensPerSecond(), s.peakRssBytes() / (1024.0 * 1024 * 1024)));
        sb.append("<h2>Metrics</h2>\n<table><tr><th>split / metric</th><th>before</th><th>after</th><th>change</th></tr>\n");
        Set<String> splits = new LinkedHashSet<>(s.after().keySet());
        splits.addAll(s.before().keySet());
        for (String split : splits) {
            Map<String, Double> b = s.before().getOrDefault(split, Map.of());
            Map<String, Double> a = s.after().getOrDefault(split, Map.of());
            Set<String> metrics = new LinkedHashSet<>(a.keySet());
            metrics.addAll(b.keySet());
            metrics.removeIf(MetricFormat::isCount);
            for (String m : metrics) {
                Double before = b.get(m);
                Double after = a.get(m);
                sb.append("<tr><td>").append(esc(split + " " + m)).append("</td><td>").append(fmt(before))
                        .append("</td><td>").append(fmt(after)).append("</td><td>")
                        .append(before != null && after != null ? String.format("%+.4f", after - before) : "")
                        .append("</td></tr>\n");
            }
        }
        sb.append("</table>\n");
        if (!s.samples().isEmpty()) {
            sb.append("<h2>Generations (greedy)</h2>\n<table><tr><th>prompt</th><th>before</th><th>after</th></tr>\n");
            for (GenerationSample g : s.samples()) {
                sb.append("<tr><td><pre>").append(esc(g.prompt())).append("</pre></td><td><pre>")
                        .append(g.before() == null ? "&mdash;" : esc(g.before())).append("</pre></td><td><pre>")
                        .append(esc(g.after())).append("</pre></td></tr>\n");
            }
            sb.append("</table>\n");
        }
        sb.append("<h2>Curves</h2>\n");
        for (String p : plots) {
            sb.append("<p><img src=\"").append(esc(p)).append("\" alt=\"").append(esc(p)).append("\"></p>\n");
        }
        sb.append("<p>Every step and evaluation: <a href=\"metrics.csv\">metrics.csv</a>,"
                + " <a href=\"metrics.jsonl\">metrics.jsonl</a>.</p>\n");
        sb.append("<h2>Configuration</h2>\n<pre>").append(esc(configText)).append("</pre>\n</body></html>\n");
        return sb.toString();
    }

    private static String fmt(Double v) {
        return v == null ? "&mdash;" : String.format("%.4f", v);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
