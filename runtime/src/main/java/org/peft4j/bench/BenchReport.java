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
                          double gemmPeakBf16Gflops, List<Benchmark.Case> cases, Map<String, MemoryProbe> memory,
                          Reference reference, String engine) {

    /** A report without bfloat16 cases (no bfloat16 GEMM peak). */
    public BenchReport(String workload, int batch, int seqLen, Benchmark.Options options, double gemmPeakGflops,
                       List<Benchmark.Case> cases, Map<String, MemoryProbe> memory, Reference reference, String engine) {
        this(workload, batch, seqLen, options, gemmPeakGflops, Double.NaN, cases, memory, reference, engine);
    }

    /** The GEMM peak of the precision the case ran in: a bfloat16 case's share is of the bfloat16 peak. */
    public double peakFor(Benchmark.Case c) {
        return c.name().endsWith(Benchmark.BF16) && !Double.isNaN(gemmPeakBf16Gflops) ? gemmPeakBf16Gflops : gemmPeakGflops;
    }

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
        for (String name : List.of("lora", "full", "lora-bf16", "full-bf16")) {
            Benchmark.Case c = get(name);
            if (c != null) {
                r.put(name.replace('-', '_') + "_share_of_gemm_peak", c.gflops() / peakFor(c));
            }
        }
        for (String suffix : List.of("", Benchmark.BF16)) {
            Benchmark.Case l = get("lora" + suffix);
            Benchmark.Case a = get("adalora" + suffix);
            if (l != null && a != null) {
                String p = suffix.replace('-', '_');
                r.put("adalora" + p + "_step_over_lora" + p + "_step", pairedRatio(a.timing(), l.timing()));
            }
        }
        for (String name : List.of("lora", "adalora", "full", "base")) {
            Benchmark.Case fp32 = get(name);
            Benchmark.Case bf16 = get(name + Benchmark.BF16);
            if (fp32 != null && bf16 != null) {
                r.put(name + "_bf16_step_over_fp32_step", pairedRatio(bf16.timing(), fp32.timing()));
            }
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
            // like for like: each of our cases over the anchor's run of the same mode in the same precision
            for (Benchmark.Case c : cases) {
                String mode = Anchor.modeOf(c.name());
                String key = mode == null ? null : c.name().endsWith(Benchmark.BF16) ? mode + "_bf16" : mode;
                Double theirs = key == null ? null : reference.tokensPerSecond().get(key);
                if (theirs != null) {
                    r.put(key + "_tokens_per_s_over_pytorch", c.tokensPerSecond() / theirs);
                }
            }
            // the goal's figure: our faster precision over the anchor's faster one
            for (String mode : List.of("lora", "adalora", "full", "inference")) {
                Benchmark.Case ours = bestOf(mode);
                double theirs = reference.best(mode);
                if (ours != null && !Double.isNaN(theirs)) {
                    r.put(mode + "_tokens_per_s_over_pytorch_best", ours.tokensPerSecond() / theirs);
                }
            }
        }
        return r;
    }

    /** Our fastest case of an anchor mode (lora or lora-bf16, ...), or null. */
    public Benchmark.Case bestOf(String mode) {
        return cases.stream().filter(c -> mode.equals(Anchor.modeOf(c.name())))
                .max(java.util.Comparator.comparingDouble(Benchmark.Case::tokensPerSecond)).orElse(null);
    }

    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%s; %s; batch %d x %d tokens; %d warm-up + %d interleaved rounds; GEMM peak %.0f GFLOP/s%s%n",
                engine, workload, batch, seqLen, options.warmup(), options.repeats(), gemmPeakGflops,
                Double.isNaN(gemmPeakBf16Gflops) ? "" : String.format(" (fp32), %.0f (bf16)", gemmPeakBf16Gflops)));
        sb.append(String.format("%-17s %-9s %10s %17s %10s %8s %8s %13s %13s%n", "case", "kind", "median ms",
                "p10–p90 ms", "tokens/s", "GFLOP/s", "% peak", "peak RSS MB", "tensor MB"));
        for (Benchmark.Case c : cases) {
            MemoryProbe m = memory.get(c.name());
            sb.append(String.format("%-17s %-9s %10.1f %8.1f–%-8.1f %10.0f %8.1f %7.1f%% %13s %13s%n", c.name(),
                    c.kind(), 1000 * c.timing().median(), 1000 * c.timing().p10(), 1000 * c.timing().p90(),
                    c.tokensPerSecond(), c.gflops(), 100 * c.gflops() / peakFor(c),
                    m == null ? "-" : String.format("%.0f", m.peakRssBytes() / 1e6),
                    m == null ? "-" : String.format("%.0f", m.tensorPeakBytes() / 1e6)));
        }
        if (!memory.isEmpty()) {
            sb.append(String.format("(peak RSS: each case alone in a fresh JVM with %s; tensor MB = that peak"
                    + " minus the RSS before the model was built)%n", MemoryProbe.HEAP));
        }
        if (reference != null) {
            sb.append(String.format("PyTorch anchor (torch %s, Transformers + PEFT, batch %d x %d): %s tokens/s%n",
                    reference.torch(), reference.batch(), reference.seqLen(), reference.tokensPerSecond()));
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
        if (!Double.isNaN(gemmPeakBf16Gflops)) {
            n.put("gemm_peak_bf16_gflops", gemmPeakBf16Gflops);
        }
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
            o.put("share_of_gemm_peak", c.gflops() / peakFor(c));
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
