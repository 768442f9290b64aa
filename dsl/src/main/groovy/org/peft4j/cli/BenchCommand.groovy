package org.peft4j.cli

import org.peft4j.bench.BenchReport
import org.peft4j.bench.Benchmark
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

/** Times LoRA and full training steps and base / unmerged / merged inference on this machine. */
@Command(name = 'bench', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['Measure this machine: the engine\'s fp32 GEMM peak, one training step with LoRA and with every weight',
                'trainable, and inference of the base model, with an unmerged and a merged adapter. Prints a table',
                '(median and p10–p90 time, tokens/s, GFLOP/s, share of the GEMM peak, peak RSS); --json also writes it',
                'as JSON (nothing is written without --json).'],
        footer = ['', 'Examples:', '  peft4j bench', '  peft4j bench --batch 8 --seq 64 --threads 2 --json bench-results.json',
                '  peft4j bench --model ~/models/bert-base-uncased --r 16',
                '  peft4j bench --memory recipes/quickstart.groovy --steps 1000 --every 100',
                '', 'Exit codes: 0 measured, 1 the benchmark failed, 2 a usage mistake.'])
class BenchCommand implements Callable<Integer> {

    @Option(names = '--model', paramLabel = 'MODEL', defaultValue = 'minilm',
            description = "'minilm' (embedded) or a Hugging Face BERT directory (default: \${DEFAULT-VALUE})")
    String model

    @Option(names = '--batch', paramLabel = 'N', defaultValue = '32', description = 'sequences per step (default: ${DEFAULT-VALUE})')
    int batch

    @Option(names = '--seq', paramLabel = 'N', defaultValue = '128', description = 'tokens per sequence (default: ${DEFAULT-VALUE})')
    int seq

    @Option(names = '--warmup', paramLabel = 'N', defaultValue = '3', description = 'untimed steps first (default: ${DEFAULT-VALUE})')
    int warmup

    @Option(names = '--repeats', paramLabel = 'N', defaultValue = '10', description = 'timed steps per case (default: ${DEFAULT-VALUE})')
    int repeats

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
        Path dir = Models.directory(model)
        PrintWriter out = spec.commandLine().out
        PrintStream log = new PrintStream(quiet ? OutputStream.nullOutputStream() : new LineOutput(out), true, StandardCharsets.UTF_8)
        BenchReport report = new Benchmark(new Benchmark.Options(dir, batch, seq, warmup, repeats, r), log).runAll([:])
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
