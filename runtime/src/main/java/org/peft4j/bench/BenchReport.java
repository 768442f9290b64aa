package org.peft4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a benchmark run measured, as a table for people and JSON for tools, with the ratios that
 * matter.
 *
 * @param memory    per case, its peak measured in a child JVM (empty when skipped)
 * @param reference eager PyTorch's figures for the same workload, or null
 */
public record BenchReport(String workload, int batch, int seqLen, Benchmark.Options options, double gemmPeakGflops,
                          List<Benchmark.Case> cases, Map<String, MemoryProbe> memory, Reference reference,
                          String engine) {

    public Benchmark.Case get(String name) {
        return cases.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
    }

    /**
     * a / b as the median of the per-round ratios: the cases ran interleaved, round k of one next to
     * round k of the other, so a burst of outside load cancels out of each round's ratio.
     */
    static double pairedRatio(Timing a, Timing b) {
        int n = Math.min(a.seconds().length, b.seconds().length);
        double[] r = new double[n];
        for (int i = 0; i < n; i++) {
            r[i] = a.seconds()[i] / b.seconds()[i];
        }
        return new Timing(Arrays.copyOf(r, n)).median();
    }

    /** Ratios between cases, named as the project's performance targets are. */
    public Map<String, Double> ratios() {
        Map<String, Double> r = new LinkedHashMap<>();
        Benchmark.Case lora = get("lora");
        Benchmark.Case full = get("full");
        Benchmark.Case ada = get("adalora");
        Benchmark.Case base = get("base");
        Benchmark.Case merged = get("lora-merged");
        Benchmark.Case unmerged = get("lora-unmerged");
        if (lora != null) {
            r.put("lora_share_of_gemm_peak", lora.gflops() / gemmPeakGflops);
        }
        if (full != null) {
            r.put("full_share_of_gemm_peak", full.gflops() / gemmPeakGflops);
        }
        if (lora != null && ada != null) {
            r.put("adalora_step_over_lora_step", pairedRatio(ada.timing(), lora.timing()));
        }
        if (lora != null && full != null) {
            r.put("lora_step_over_full_step", pairedRatio(lora.timing(), full.timing()));
        }
        Benchmark.Case checkpointed = get("lora-checkpointed");
        if (lora != null && checkpointed != null) {
            r.put("lora_checkpointed_step_over_lora_step", pairedRatio(checkpointed.timing(), lora.timing()));
        }
        for (String name : List.of("lora", "lora-checkpointed")) {
            if (memory.containsKey(name) && memory.containsKey("full")) {
                String key = name.replace('-', '_');
                r.put(key + "_peak_rss_over_full",
                        (double) memory.get(name).peakRssBytes() / memory.get("full").peakRssBytes());
                r.put(key + "_tensor_peak_over_full",
                        (double) memory.get(name).tensorPeakBytes() / memory.get("full").tensorPeakBytes());
            }
        }
        if (base != null && merged != null) {
            r.put("merged_latency_over_base", pairedRatio(merged.timing(), base.timing()));
        }
        if (base != null && unmerged != null) {
            r.put("unmerged_latency_over_base", pairedRatio(unmerged.timing(), base.timing()));
        }
        for (String name : List.of("lora-unmerged", "lora-merged")) {
            if (memory.containsKey(name) && memory.containsKey("base")) {
                r.put(name.substring("lora-".length()) + "_peak_rss_over_base",
                        (double) memory.get(name).peakRssBytes() / memory.get("base").peakRssBytes());
            }
        }
        if (reference != null) {
            Map<String, String> ours = Map.of("lora", "lora", "full", "full", "inference", "base");
            for (Map.Entry<String, Double> e : reference.tokensPerSecond().entrySet()) {
                Benchmark.Case c = get(ours.getOrDefault(e.getKey(), e.getKey()));
                if (c != null) {
                    r.put(e.getKey() + "_tokens_per_s_over_pytorch", c.tokensPerSecond() / e.getValue());
                }
            }
        }
        return r;
    }

    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%s; %s; batch %d x %d tokens; %d warm-up + %d interleaved rounds; GEMM peak %.0f GFLOP/s%n",
                engine, workload, batch, seqLen, options.warmup(), options.repeats(), gemmPeakGflops));
        sb.append(String.format("%-17s %-9s %10s %17s %10s %8s %8s %13s %13s%n", "case", "kind", "median ms",
                "p10–p90 ms", "tokens/s", "GFLOP/s", "% peak", "peak RSS MB", "tensor MB"));
        for (Benchmark.Case c : cases) {
            MemoryProbe m = memory.get(c.name());
            sb.append(String.format("%-17s %-9s %10.1f %8.1f–%-8.1f %10.0f %8.1f %7.1f%% %13s %13s%n", c.name(),
                    c.kind(), 1000 * c.timing().median(), 1000 * c.timing().p10(), 1000 * c.timing().p90(),
                    c.tokensPerSecond(), c.gflops(), 100 * c.gflops() / gemmPeakGflops,
                    m == null ? "-" : String.format("%.0f", m.peakRssBytes() / 1e6),
                    m == null ? "-" : String.format("%.0f", m.tensorPeakBytes() / 1e6)));
        }
        if (!memory.isEmpty()) {
            sb.append(String.format("(peak RSS: each case alone in a fresh JVM with %s; tensor MB = that peak"
                    + " minus the RSS before the model was built)%n", MemoryProbe.HEAP));
        }
        if (reference != null) {
            sb.append(String.format("eager PyTorch reference (torch %s, batch %d x %d): %s tokens/s%n", reference.torch(),
                    reference.batch(), reference.seqLen(), reference.tokensPerSecond()));
            if (reference.batch() != batch || reference.seqLen() != seqLen) {
                sb.append("WARNING: the reference ran another batch shape; its ratios compare different work\n");
            }
        }
        ratios().forEach((k, v) -> sb.append(String.format("%-36s %.3f%n", k, v)));
        return sb.toString();
    }

    public String json() {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode n = json.createObjectNode();
        n.put("engine", engine);
        n.put("workload", workload);
        n.put("batch", batch);
        n.put("seq_len", seqLen);
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
            o.put("trainable_params", c.trainableParams());
            MemoryProbe m = memory.get(c.name());
            if (m != null) {
                o.put("child_start_rss_bytes", m.startRssBytes());
                o.put("child_peak_rss_bytes", m.peakRssBytes());
            }
        }
        if (reference != null) {
            n.set("pytorch_reference_tokens_per_second", json.valueToTree(reference.tokensPerSecond()));
        }
        n.set("ratios", json.valueToTree(ratios()));
        try {
            return json.writeValueAsString(n);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
