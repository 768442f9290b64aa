package org.peft4j.cli

import org.peft4j.bench.BenchReport
import org.peft4j.bench.Benchmark
import org.peft4j.bench.LlamaWorkload
import org.peft4j.bench.MemoryProbe
import org.peft4j.bench.Reference
import org.peft4j.bench.Workload
import org.peft4j.dsl.RecipeLoader
import org.peft4j.run.MemoryBench
import org.peft4j.run.RunConfig
import org.peft4j.tensor.Backend
import org.peft4j.tensor.BackendConfig
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
                '  peft4j bench --reference pytorch.json      # after bench/pytorch_reference.py --json pytorch.json',
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
            description = 'the JSON written by bench/pytorch_reference.py --json FILE: prints our tokens/s over eager PyTorch\'s')
    Path reference

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
        [steps: steps, every: every].each { k, v -> if (v < 1) wrong << "--${k} must be at least 1, got ${v}".toString() }
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
        Workload workload = Workload.open(workloadSpec, batch, seq, Backend.get().manager())
        try {
            Benchmark bench = new Benchmark(workload, options, log)
            double peak = bench.gemmPeak()
            List<Benchmark.Case> measured = bench.timeAll(cases.findAll { Benchmark.TRAINING.contains(it - Benchmark.BF16) },
                    cases.findAll { Benchmark.INFERENCE.contains(it - Benchmark.BF16) })
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
            report = new BenchReport(workload.describe(), batch, seq, options, peak, measured, memory,
                    reference == null ? null : Reference.read(reference),
                    "${Backend.get().describe()}, OMP_WAIT_POLICY=${System.getenv('OMP_WAIT_POLICY') ?: 'unset'}".toString())
        } finally {
            workload.close()
        }
        log.flush()
        out.print(report.table())
        if (json != null) {
            Path parent = json.toAbsolutePath().parent
            Files.createDirectories(parent)
            Files.writeString(json, report.json())
            out.println("wrote ${json}")
        }
        out.flush()
        0
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
