package org.peft4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What a benchmark run measured, as a table for people and JSON for tools, with the ratios that matter. */
public record BenchReport(Benchmark.Options options, double gemmPeakGflops, List<Benchmark.Case> cases, String engine) {

    public Benchmark.Case get(String name) {
        return cases.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
    }

    /** Ratios between cases, named as the project's performance targets are. */
    public Map<String, Double> ratios() {
        Map<String, Double> r = new LinkedHashMap<>();
        Benchmark.Case lora = get("lora");
        Benchmark.Case full = get("full");
        Benchmark.Case ada = get("adalora");
        Benchmark.Case base = get("base");
        if (lora != null) {
            r.put("lora_share_of_gemm_peak", lora.gflops() / gemmPeakGflops);
        }
        if (full != null) {
            r.put("full_share_of_gemm_peak", full.gflops() / gemmPeakGflops);
        }
        if (lora != null && ada != null) {
            r.put("adalora_step_over_lora_step", ada.timing().median() / lora.timing().median());
        }
        if (lora != null && full != null) {
            r.put("lora_peak_rss_over_full", (double) lora.peakRssBytes() / full.peakRssBytes());
        }
        if (base != null && get("lora-merged") != null) {
            r.put("merged_latency_over_base", get("lora-merged").timing().median() / base.timing().median());
        }
        if (base != null && get("lora-unmerged") != null) {
            r.put("unmerged_latency_over_base", get("lora-unmerged").timing().median() / base.timing().median());
        }
        return r;
    }

    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%s; batch %d x %d tokens; %d warm-up + %d timed repeats; GEMM peak %.0f GFLOP/s%n",
                engine, options.batch(), options.seqLen(), options.warmup(), options.repeats(), gemmPeakGflops));
        sb.append(String.format("%-14s %-9s %10s %16s %10s %8s %9s %12s%n", "case", "kind", "median ms",
                "p10–p90 ms", "tokens/s", "GFLOP/s", "% peak", "peak RSS MB"));
        for (Benchmark.Case c : cases) {
            sb.append(String.format("%-14s %-9s %10.1f %7.1f–%-8.1f %10.0f %8.1f %8.1f%% %12.0f%n", c.name(), c.kind(),
                    1000 * c.timing().median(), 1000 * c.timing().p10(), 1000 * c.timing().p90(), c.tokensPerSecond(),
                    c.gflops(), 100 * c.gflops() / gemmPeakGflops, c.peakRssBytes() / 1e6));
        }
        ratios().forEach((k, v) -> sb.append(String.format("%-30s %.3f%n", k, v)));
        return sb.toString();
    }

    public String json() {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode n = json.createObjectNode();
        n.put("engine", engine);
        n.put("batch", options.batch());
        n.put("seq_len", options.seqLen());
        n.put("warmup", options.warmup());
        n.put("repeats", options.repeats());
        n.put("gemm_peak_gflops", gemmPeakGflops);
        ArrayNode arr = n.putArray("cases");
        for (Benchmark.Case c : cases) {
            ObjectNode o = arr.addObject();
            o.put("name", c.name());
            o.put("kind", c.kind());
            o.put("median_seconds", c.timing().median());
            o.put("p10_seconds", c.timing().p10());
            o.put("p90_seconds", c.timing().p90());
            ArrayNode all = o.putArray("seconds");
            for (double s : c.timing().seconds()) {
                all.add(s);
            }
            o.put("tokens_per_second", c.tokensPerSecond());
            o.put("gflops", c.gflops());
            o.put("share_of_gemm_peak", c.gflops() / gemmPeakGflops);
            o.put("peak_rss_bytes", c.peakRssBytes());
            o.put("trainable_params", c.trainableParams());
        }
        n.set("ratios", json.valueToTree(ratios()));
        try {
            return json.writeValueAsString(n);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
