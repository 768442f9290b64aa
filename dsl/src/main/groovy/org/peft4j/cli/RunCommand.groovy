package org.peft4j.cli

import org.peft4j.run.FineTune
import org.peft4j.run.RunConfig
import org.peft4j.run.RunOptions
import org.peft4j.run.Summary
import picocli.CommandLine.Command
import picocli.CommandLine.Mixin
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Option
import picocli.CommandLine.Spec

import java.nio.file.Path
import java.time.LocalDateTime
import java.time.format.DateTimeFormatter
import java.util.concurrent.Callable

/** Trains a recipe and prints a readable result. */
@Command(name = 'run', mixinStandardHelpOptions = true,
        description = 'Compile a recipe, fine-tune, evaluate, and write a run directory (resolved config, metrics, adapter).',
        footer = ['', 'Example:', '  peft4j run recipes/spam-lora.groovy --set train.epochs=1 --out runs/try1'])
class RunCommand implements Callable<Integer> {

    @Mixin
    CommonOptions common

    @Option(names = '--out', paramLabel = 'DIR',
            description = 'the run directory (default: runs/<recipe name>-<yyyyMMdd-HHmmss> under the current folder)')
    Path out

    @Option(names = '--no-eval-before', description = 'skip evaluating the untrained model first')
    boolean noEvalBefore

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        RunConfig config = common.load()
        Path dir = out ?: Path.of('runs', config.name() + '-' + LocalDateTime.now().format(DateTimeFormatter.ofPattern('yyyyMMdd-HHmmss')))
        PrintWriter w = spec.commandLine().out
        Summary summary = FineTune.run(config, new RunOptions(dir.toAbsolutePath(), common.recipe.toAbsolutePath(), !noEvalBefore),
                new ProgressListener(w))
        w.print(report(summary, Path.of('').toAbsolutePath()))
        w.flush()
        0
    }

    /** The result as a small table: metrics before and after per split, then cost. */
    static String report(Summary s, Path cwd) {
        StringBuilder sb = new StringBuilder('\n')
        List<String> splits = (['valid', 'test'] + s.after().keySet() + s.before().keySet()).unique()
                .findAll { s.after().containsKey(it) || s.before().containsKey(it) }
        sb << String.format('%-16s %8s %8s %8s%n', 'metric', 'before', 'after', 'change')
        for (String split : splits) {
            for (String metric : ['accuracy', 'f1']) {
                Double before = s.before()[split]?.get(metric)
                Double after = s.after()[split]?.get(metric)
                if (before == null && after == null) {
                    continue
                }
                sb << String.format('%-16s %8s %8s %8s%n', "${split} ${metric}", fmt(before), fmt(after),
                        before != null && after != null ? String.format('%+.4f', after - before) : '')
            }
        }
        sb << '\n'
        sb << String.format('%-16s %,d of %,d parameters (%.3f%%)%n', 'trainable', s.trainableParams(), s.totalParams(),
                s.totalParams() == 0 ? 0d : 100d * s.trainableParams() / s.totalParams())
        sb << String.format('%-16s %s (training %s, %d steps)%n', 'wall time', duration(s.wallSeconds()), duration(s.trainSeconds()), s.steps())
        sb << String.format('%-16s %,.0f tokens/s%n', 'throughput', s.tokensPerSecond())
        sb << String.format('%-16s %.2f GiB%n', 'peak memory', s.peakRssBytes() / (1024d * 1024 * 1024))
        Path run = s.runDir()
        sb << String.format('%-16s %s%n', 'run directory', run != null && run.startsWith(cwd) ? cwd.relativize(run) : run)
        sb.toString()
    }

    private static String fmt(Double v) {
        v == null ? '—' : String.format('%.4f', v)
    }

    static String duration(double seconds) {
        long s = Math.round(seconds)
        s >= 3600 ? String.format('%dh %02dm %02ds', s.intdiv(3600), (s % 3600).intdiv(60), s % 60)
                : s >= 60 ? String.format('%dm %02ds', s.intdiv(60), s % 60)
                : String.format('%.1fs', seconds)
    }
}
