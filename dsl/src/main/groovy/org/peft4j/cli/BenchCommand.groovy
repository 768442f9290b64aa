package org.peft4j.cli

import org.peft4j.bench.Anchor
import org.peft4j.bench.BenchReport
import org.peft4j.bench.Benchmark
import org.peft4j.bench.LlamaWorkload
import org.peft4j.bench.MemoryFlatness
import org.peft4j.bench.MemoryProbe
import org.peft4j.bench.Reference
import org.peft4j.bench.Timing
import org.peft4j.bench.Workload
import org.peft4j.dsl.RecipeLoader
import org.peft4j.run.MemoryBench
import org.peft4j.run.RunConfig
import org.peft4j.tensor.Backend
import org.peft4j.tensor.BackendConfig
import org.peft4j.tensor.ComputePrecision
import picocli.CommandLine.Command
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Option
import picocli.CommandLine.Spec

import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.Callable

/** Times LoRA, AdaLoRA and full training steps and base / unmerged / merged inference on this machine. */
@Command(name = 'bench', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['Measure this machine: the engine\'s fp32 GEMM peak; one training step with LoRA (also with activation',
                'checkpointing), AdaLoRA at the same',
                'final budget and every weight trainable; inference of the base model, with an unmerged and a merged',
                'adapter. Each case warms up on its own, then the timed repeats run round-robin over the cases, so',
                'load on the machine reaches all of them alike. Peak memory of each case is measured in a',
                'fresh child JVM with a small heap. Prints a table (median and p10–p90 time, tokens/s, GFLOP/s,',
                'share of the GEMM peak, peak memory) and the target ratios; --json also writes it as JSON.'],
        footer = ['', 'Examples:', '  peft4j bench', '  peft4j bench --batch 8 --seq 64 --threads 2 --json bench-results.json',
                '  peft4j bench --model ~/models/bert-base-uncased --r 16',
                '  peft4j bench --model llama-small --batch 16',
                '  peft4j bench --cases lora,lora-bf16,adalora-bf16 --no-memory --threads 2 --anchor /path/to/venv/bin/python --pairs 5',
                '  peft4j bench --cases lora-bf16 --no-memory --flat-steps 2000 --batch 8 --seq 64',
                '  peft4j bench --memory recipes/quickstart.groovy --steps 1000 --every 100',
                '', 'Exit codes: 0 measured, 1 the benchmark failed, 2 a usage mistake.'])
class BenchCommand implements Callable<Integer> {

    @Option(names = '--model', paramLabel = 'MODEL', defaultValue = 'minilm',
            description = ["'minilm' (embedded), 'llama-small' (a ~7M-parameter Llama built in memory, random weights)",
                    "or a Hugging Face BERT directory (default: \${DEFAULT-VALUE})"])
    String model

    @Option(names = '--batch', paramLabel = 'N', defaultValue = '32', description = 'sequences per step (default: ${DEFAULT-VALUE})')
    int batch

    @Option(names = '--seq', paramLabel = 'N', defaultValue = '128', description = 'tokens per sequence (default: ${DEFAULT-VALUE})')
    int seq

    @Option(names = '--warmup', paramLabel = 'N', defaultValue = '3', description = 'untimed steps of each case first (default: ${DEFAULT-VALUE})')
    int warmup

    @Option(names = '--repeats', paramLabel = 'N', defaultValue = '10', description = 'timed rounds; each times every case once (default: ${DEFAULT-VALUE})')
    int repeats

    @Option(names = '--cases', paramLabel = 'LIST', split = ',', defaultValue = 'lora,lora-checkpointed,adalora,full,base,lora-unmerged,lora-merged',
            description = 'which cases to run (default: ${DEFAULT-VALUE})')
    List<String> cases

    @Option(names = '--no-memory', description = 'skip the per-case peak-memory children (each adds a JVM start, a model load and a few steps)')
    boolean skipMemory

    @Option(names = '--memory-steps', paramLabel = 'N', defaultValue = '2', description = 'steps of each memory child after one warm-up (default: ${DEFAULT-VALUE})')
    int memorySteps

    @Option(names = '--reference', paramLabel = 'FILE',
            description = 'the JSON of an earlier anchor run (pytorch_anchor.py --json FILE): prints our tokens/s over it')
    Path reference

    @Option(names = '--anchor', paramLabel = 'PYTHON',
            description = ['a Python with torch, transformers and peft: runs the PyTorch anchor (Transformers + PEFT on the same',
                    'model, batch and step, fp32 eager and bf16 autocast) in a child process before each of --pairs rounds of our',
                    'cases, and prints our tokens/s over its faster precision, per pair and as the median'])
    String anchor

    @Option(names = '--pairs', paramLabel = 'N', defaultValue = '1', description = 'with --anchor: anchor/ours pairs, alternating (default: ${DEFAULT-VALUE})')
    int pairs

    @Option(names = '--flat-steps', paramLabel = 'N', defaultValue = '0',
            description = 'also run the first training case N steps and check that its resident memory grows by less than 2%%')
    int flatSteps

    @Option(names = '--r', paramLabel = 'N', defaultValue = '8', description = 'LoRA rank (default: ${DEFAULT-VALUE})')
    int r

    @Option(names = '--json', paramLabel = 'FILE', description = 'also write the results as JSON to FILE')
    Path json

    @Option(names = '--threads', paramLabel = 'N', description = 'intra-op threads of the engine (default: all cores)')
    Integer threads

    @Option(names = ['-q', '--quiet'], description = 'print only the table, not the progress')
    boolean quiet

    @Option(names = '--memory', paramLabel = 'RECIPE',
            description = ['instead: train RECIPE for --steps steps and print resident memory and live arrays every',
                    '--every steps (memory that grows with the step count is a leak)'])
    Path memory

    @Option(names = '--steps', paramLabel = 'N', defaultValue = '1000', description = 'with --memory: optimizer steps (default: ${DEFAULT-VALUE})')
    int steps

    @Option(names = '--every', paramLabel = 'N', defaultValue = '100', description = 'with --memory: steps between samples (default: ${DEFAULT-VALUE})')
    int every

    @Option(names = '--stacktrace', description = 'print the stack trace of an error')
    boolean stacktrace

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        List<String> wrong = []
        [batch: batch, seq: seq, repeats: repeats, r: r].each { k, v -> if (v < 1) wrong << "--${k} must be at least 1, got ${v}".toString() }
        if (warmup < 0) wrong << "--warmup must be at least 0, got ${warmup}".toString()
        if (threads != null && threads < 1) wrong << "--threads must be at least 1, got ${threads}".toString()
        List<String> known = Benchmark.TRAINING + Benchmark.INFERENCE
        cases.findAll { !Benchmark.isCase(it) }.each {
            wrong << "--cases: no case '${it}'; valid: ${known.join(', ')}, each also with ${Benchmark.BF16} (bfloat16 products)".toString()
        }
        if (memorySteps < 1) wrong << "--memory-steps must be at least 1, got ${memorySteps}".toString()
        if (reference != null && !Files.isRegularFile(reference)) wrong << "--reference: no file ${reference}".toString()
        [steps: steps, every: every, pairs: pairs].each { k, v -> if (v < 1) wrong << "--${k} must be at least 1, got ${v}".toString() }
        if (flatSteps < 0) wrong << "--flat-steps must be at least 0, got ${flatSteps}".toString()
        if (anchor != null && model == LlamaWorkload.NAME) wrong << "--anchor needs a Hugging Face directory (--model), not ${model}".toString()
        if (anchor != null && reference != null) wrong << '--anchor and --reference both give the anchor; use one'
        if (anchor != null && !cases.any { Anchor.modeOf(it) != null }) {
            wrong << "--anchor: none of --cases ${cases.join(',')} has a PyTorch counterpart (lora, adalora, full, base)".toString()
        }
        if (wrong) {
            throw new UserError(wrong.join('\n'))
        }
        if (memory != null) {
            return memoryBench()
        }
        // libtorch takes its thread count only before the first op, so this comes before the model loads
        if (threads != null) {
            Backend.start(new BackendConfig('cpu', 'float32', threads))
        }
        String workloadSpec = model == LlamaWorkload.NAME ? model : Models.directory(model).toString()
        PrintWriter out = spec.commandLine().out
        PrintStream log = new PrintStream(quiet ? OutputStream.nullOutputStream() : new LineOutput(out), true, StandardCharsets.UTF_8)
        Benchmark.Options options = new Benchmark.Options(warmup, repeats, r)
        BenchReport report
        List<String> pairLines = []
        List<String> flatLines = []
        Workload workload = Workload.open(workloadSpec, batch, seq, Backend.get().manager())
        try {
            Benchmark bench = new Benchmark(workload, options, log)
            double peak = bench.gemmPeak()
            double peakBf16 = cases.any { it.endsWith(Benchmark.BF16) } ? bench.gemmPeak(ComputePrecision.BFLOAT16) : Double.NaN
            List<String> training = cases.findAll { Benchmark.TRAINING.contains(it - Benchmark.BF16) }
            List<String> inference = cases.findAll { Benchmark.INFERENCE.contains(it - Benchmark.BF16) }
            List<Benchmark.Case> measured
            Reference ref = reference == null ? null : Reference.read(reference)
            if (anchor != null) {
                List<String> modes = cases.collect { Anchor.modeOf(it) }.findAll { it != null }.unique()
                Map<String, List<Double>> ratios = [:].withDefault { [] }
                for (int i = 1; i <= pairs; i++) {
                    String loadBefore = loadAverage()
                    log.println("pair ${i}/${pairs}: PyTorch anchor (${modes.join(', ')}; fp32 and bf16 autocast), load ${loadBefore}")
                    ref = new Anchor(anchor).run(Path.of(workloadSpec), modes, batch, seq, warmup, repeats, r,
                            threads ?: Runtime.runtime.availableProcessors())
                    measured = bench.timeAll(training, inference)
                    BenchReport pair = new BenchReport(workload.describe(), batch, seq, options, peak, peakBf16, measured, [:], ref, '')
                    for (String mode : modes) {
                        Benchmark.Case ours = pair.bestOf(mode)
                        double ratio = ours.tokensPerSecond() / ref.best(mode)
                        ratios[mode] << ratio
                        double ms = 1000 * workload.tokens()
                        String line = String.format('pair %d: %-9s peft4j %8.1f ms (%s), PyTorch %8.1f ms (%s; fp32 %.1f, bf16 %.1f): %.3f  [load %s -> %s]',
                                i, mode, ms / ours.tokensPerSecond(), ours.name(), ms / ref.best(mode), ref.bestPrecision(mode),
                                ms / ref.tokensPerSecond().getOrDefault(mode, Double.NaN),
                                ms / ref.tokensPerSecond().getOrDefault(mode + '_bf16', Double.NaN), ratio, loadBefore, loadAverage())
                        pairLines << line
                        log.println(line)
                    }
                }
                ratios.each { mode, list ->
                    pairLines << String.format('%s: peft4j / PyTorch (faster precision) tokens/s, median of %d pairs: %.3f (min %.3f, max %.3f)',
                            mode, list.size(), new Timing(list as double[]).median(), list.min(), list.max())
                }
            } else {
                measured = bench.timeAll(training, inference)
            }
            if (flatSteps > 0 && training) {
                log.println("memory flatness: ${training[0]}, ${flatSteps} steps")
                Benchmark.Runner runner = bench.runner(training[0])
                try {
                    flatLines << MemoryFlatness.measure(training[0], runner, flatSteps, 20, log).describe()
                } finally {
                    runner.close()
                }
            }
            Map<String, MemoryProbe> memory = [:]
            if (!skipMemory) {
                log.println("peak memory, each case in a fresh JVM (${MemoryProbe.HEAP})")
                for (String c : cases) {
                    MemoryProbe m = MemoryProbe.measure(workloadSpec, batch, seq, r, c, memorySteps, threads)
                    log.printf("  %-22s peak %6.0f MB, %6.0f MB above the started engine%n", c, m.peakRssBytes() / 1e6,
                            m.tensorPeakBytes() / 1e6)
                    memory[c] = m
                }
            }
            report = new BenchReport(workload.describe(), batch, seq, options, peak, peakBf16, measured, memory, ref,
                    "${Backend.get().describe()}, OMP_WAIT_POLICY=${System.getenv('OMP_WAIT_POLICY') ?: 'unset'}".toString())
        } finally {
            workload.close()
        }
        log.flush()
        out.print(report.table())
        pairLines.each { out.println(it) }
        flatLines.each { out.println("memory flatness: ${it}") }
        out.println("CPU bf16 instructions: ${ComputePrecision.nativeBfloat16() ? 'yes' : 'no'}" +
                " (${ComputePrecision.cpuFlags().findAll { it in ['avx512_bf16', 'amx_bf16', 'amx_tile', 'avx512f', 'avx2'] }.sort().join(' ') ?: 'flags unknown'});" +
                " load average at the end ${loadAverage()}")
        if (json != null) {
            Path parent = json.toAbsolutePath().parent
            Files.createDirectories(parent)
            Files.writeString(json, report.json())
            out.println("wrote ${json}")
        }
        out.flush()
        0
    }

    /** The 1-, 5- and 15-minute load averages (Linux), for figures measured on a shared machine. */
    private static String loadAverage() {
        Path p = Path.of('/proc/loadavg')
        Files.isReadable(p) ? Files.readString(p).trim().split(/\s+/)[0..2].join(' ') : '?'
    }

    /** MemoryBench on the recipe's own configuration: its model, adapter, data and batch size. */
    private int memoryBench() {
        RunConfig config = RecipeLoader.load(memory)
        PrintWriter out = spec.commandLine().out
        PrintStream print = new PrintStream(new LineOutput(out), true, StandardCharsets.UTF_8)
        MemoryBench.run(config, steps, every, print)
        print.flush()
        0
    }

    /** Benchmark logs to a PrintStream; this hands its lines to the command's writer, which tests capture. */
    private static class LineOutput extends OutputStream {
        private final PrintWriter out
        private final ByteArrayOutputStream line = new ByteArrayOutputStream()

        LineOutput(PrintWriter out) {
            this.out = out
        }

        @Override
        void write(int b) {
            line.write(b)
            if (b == (int) ('\n' as char)) {
                flush()
            }
        }

        @Override
        void flush() {
            out.print(line.toString(StandardCharsets.UTF_8))
            out.flush()
            line.reset()
        }
    }
}
