package org.peft4j.cli

import org.peft4j.config.ConfigException
import org.peft4j.dist.LocalLauncher
import org.peft4j.dist.ProcessGroup
import org.peft4j.dist.World
import org.peft4j.dsl.Recipe
import org.peft4j.dsl.RecipeException
import org.peft4j.run.FineTune
import org.peft4j.run.GenerationSample
import org.peft4j.run.MergeDifference
import org.peft4j.run.MetricFormat
import org.peft4j.run.Preflight
import org.peft4j.run.RunConfig
import org.peft4j.run.RunOptions
import org.peft4j.run.Summary
import org.peft4j.train.TrainingListener
import picocli.CommandLine.Command
import picocli.CommandLine.Mixin
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Option
import picocli.CommandLine.Spec

import java.nio.file.Files
import java.nio.file.Path
import java.time.LocalDateTime
import java.time.format.DateTimeFormatter
import java.util.concurrent.Callable

/** Trains a recipe and prints a readable result. */
@Command(name = 'run', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['Compile a recipe, fine-tune, evaluate, and write a run directory: the recipe and the files it',
                'starts from, recipe.json (overrides), config.json (resolved configuration, versions, seeds, SHA-256 of',
                'data and base weights), metrics.jsonl, run.log, summary.json and the adapter.',
                'Given a run directory instead of a recipe, runs it again from its copies into a new directory.'],
        footer = ['', 'Examples:', '  peft4j run recipes/quickstart.groovy --set train.epochs=1 --out runs/try1',
                '  peft4j run recipes/quickstart.groovy --set params.lr=5e-4 --quiet',
                '  peft4j run runs/try1                 # rerun: same recipe copy, same overrides, new directory',
                '  peft4j run recipes/quickstart.groovy --out runs/try1 --resume   # continue from its last checkpoint',
                '  peft4j run recipes/quickstart.groovy --preflight   # one step, save, reload, merge: check before a long run',
                '  peft4j run recipes/quickstart.groovy --nproc 2     # 2 data-parallel workers on this machine (docs/distributed.md)',
                '  torchrun-style launchers (PyTorchJob, srun) start `peft4j run RECIPE` with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT',
                '', 'Exit codes: 0 done, 1 the run failed, 2 a usage or recipe mistake.'])
class RunCommand implements Callable<Integer> {

    @Mixin
    CommonOptions common

    @Option(names = '--out', paramLabel = 'DIR',
            description = 'the run directory (default: runs/<recipe name>-<yyyyMMdd-HHmmss> under the current folder)')
    Path out

    @Option(names = '--no-eval-before', description = 'skip evaluating the untrained model first')
    boolean noEvalBefore

    @Option(names = '--resume', description = ['continue the run in --out (or the recipe\'s output dir) from its newest',
            'checkpoint; an unfinished run directory is resumed even without it'])
    boolean resume

    @Option(names = '--preflight', description = ['train one step, save the adapter, load it back into a fresh copy of the',
            'base model and merge it there; print the largest output difference of each, then exit (writes no run directory)'])
    boolean preflight

    @Option(names = '--nproc', paramLabel = 'N', description = ['train with N data-parallel workers on this machine, each',
            'with its share of every batch and of the cores; rank 0 writes the run directory'])
    Integer nproc

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        if (nproc != null) {
            if (preflight) {
                throw new UserError('--preflight checks one process; drop --nproc')
            }
            return Workers.launch(nproc, spec)
        }
        World world = World.fromEnvironment(System.getenv())
        RunRecord previous = common.rerunOf()
        Recipe recipe = common.load()
        RunConfig config = recipe.config()
        if (preflight) {
            if (world.distributed()) {
                throw new UserError("--preflight checks one process; run it without WORLD_SIZE (this is rank "
                        + world.rank() + " of " + world.worldSize() + ")")
            }
            return preflight(recipe)
        }
        if (world.distributed()) {
            ProcessGroup group = ProcessGroup.open(world)
            try {
                return world.main() ? train(recipe, config, previous, group) : work(recipe, config, previous, group)
            } finally {
                group.close()
            }
        }
        train(recipe, config, previous, ProcessGroup.single())
    }

    /** A worker other than rank 0: trains its share in step with the others, quietly, and writes nothing. */
    private int work(Recipe recipe, RunConfig config, RunRecord previous, ProcessGroup group) {
        Path dir = runDirectory(recipe, previous).toAbsolutePath().normalize()
        Path recipeFile = previous == null ? common.recipe.toAbsolutePath() : previous.recipeCopy()
        try {
            FineTune.run(config, options(dir, recipeFile, group), TrainingListener.NONE)
        } catch (ConfigException e) {
            throw recipe.locate(e)
        }
        0
    }

    /** Trains, writes the run directory and prints the result: one process, or rank 0 of a group. */
    private int train(Recipe recipe, RunConfig config, RunRecord previous, ProcessGroup group) {
        Path dir = runDirectory(recipe, previous).toAbsolutePath().normalize()
        RunRecord.write(dir, recipe, common.allowCode, previous?.runDir?.toAbsolutePath())
        PrintWriter w = spec.commandLine().out
        Path recipeFile = previous == null ? common.recipe.toAbsolutePath() : previous.recipeCopy()
        Summary summary
        new PrintWriter(Files.newBufferedWriter(dir.resolve('run.log'))).withCloseable { PrintWriter log ->
            log.println("peft4j ${Main.Version.current()}: run ${common.recipe} ${recipe.overrides().collect { k, v -> "--set ${k}=${v}" }.join(' ')}".trim())
            TrainingListener console = common.quiet ? TrainingListener.NONE : new ProgressListener(w, Terminal.interactive() && !common.verbose, common.verbose)
            TrainingListener listener = TrainingListener.all(console, new ProgressListener(log, false, true))
            try {
                summary = FineTune.run(config, options(dir, recipeFile, group), listener)
            } catch (ConfigException e) {
                RecipeException placed = recipe.locate(e)
                log.println("failed: ${placed.message}")
                throw placed
            } catch (Exception e) {
                log.println("failed: ${e.message ?: e.class.name}")
                throw e
            }
            String result = report(summary, Path.of('').toAbsolutePath())
            log.print(result)
            w.print(result)
        }
        w.flush()
        0
    }

    /** The pre-flight: exit 0 when the adapter saved, reloaded and merged faithfully, 1 when it did not. */
    private int preflight(Recipe recipe) {
        PrintWriter w = spec.commandLine().out
        TrainingListener console = common.quiet ? TrainingListener.NONE : new ProgressListener(w, false, common.verbose)
        Preflight.Result r
        try {
            r = Preflight.run(recipe.config(), console)
        } catch (ConfigException e) {
            throw recipe.locate(e)
        }
        w.println()
        w.println("pre-flight of ${recipe.name()}: 1 optimizer step (loss ${String.format('%.4f', r.step())}), " +
                "the adapter saved, loaded into a fresh base model and merged")
        w.println("trained − untrained: largest output difference ${r.moved().describe()}")
        w.println("reloaded − trained:  largest output difference ${r.reload().describe()}")
        w.println("merged − unmerged:   largest output difference ${r.merge().describe()}")
        String tolerance = String.format('%.0e', MergeDifference.tolerance(r.half()))
        w.println(r.passed() ? "passed: both within ${tolerance} × max(1, largest |logit|)" :
                "FAILED: a difference exceeds ${tolerance} × max(1, largest |logit|); the saved adapter would not reproduce the trained model")
        w.flush()
        r.passed() ? 0 : Main.FAILED
    }

    /** How FineTune writes this run: into {@code dir}, keeping a copy of {@code recipeFile}. */
    RunOptions options(Path dir, Path recipeFile, ProcessGroup group = ProcessGroup.single()) {
        new RunOptions(dir, recipeFile, !noEvalBefore, resume, group)
    }

    /** --out, else the recipe's output { dir }, else runs/<name>-<time>; a rerun goes next to the run it repeats. */
    Path runDirectory(Recipe recipe, RunRecord previous) {
        // workers started together (--nproc) share the launcher's time, so that they name the same directory
        String stamp = System.getenv(LocalLauncher.STAMP) ?: LocalDateTime.now().format(DateTimeFormatter.ofPattern('yyyyMMdd-HHmmss'))
        if (out != null) {
            return out
        }
        if (previous != null) {
            return previous.runDir.resolveSibling("${previous.runDir.fileName}-rerun-${stamp}")
        }
        Path asked = recipe.outputDir()
        if (asked != null) {
            // a recipe that names its directory is run again and again; keep every run, unless asked to resume it
            boolean used = !resume && (Files.exists(asked.resolve('summary.json')) || Files.exists(asked.resolve('metrics.jsonl')))
            return used ? asked.resolveSibling("${asked.fileName}-${stamp}") : asked
        }
        Path.of('runs', "${recipe.name()}-${stamp}")
    }

    /** Retrieval metrics in the order a report shows them. */
    static final List<String> RETRIEVAL = ['mrr@10', 'recall@1', 'recall@5', 'recall@10', 'ndcg@10']

    /** The result as a small table: metrics before and after per split, then loss and cost. */
    static String report(Summary s, Path cwd) {
        StringBuilder sb = new StringBuilder('\n')
        List<String> splits = (['valid', 'test'] + s.after().keySet() + s.before().keySet()).unique()
                .findAll { s.after().containsKey(it) || s.before().containsKey(it) }
        List<List<String>> rows = []
        for (String split : splits) {
            Map<String, Double> b = s.before()[split] ?: [:]
            Map<String, Double> a = s.after()[split] ?: [:]
            for (String metric : headline(split, a ?: b)) {
                Double before = b[metric]
                Double after = a[metric]
                if (before != null || after != null) {
                    rows << ["${split} ${metric}".toString(), fmt(before), fmt(after),
                             before != null && after != null ? String.format('%+.4f', after - before) : '']
                }
            }
        }
        // a classifier's labels fit in 16 columns; "retrieval recall@10" does not
        int width = Math.max(16, ((rows*.get(0)*.length() ?: [0]).max() as int) + 1)
        String row = "%-${width}s %8s %8s %8s%n"
        sb << String.format(row, 'metric', 'before', 'after', 'change')
        rows.each { sb << String.format(row, *it) }
        sb << '\n'
        for (GenerationSample g : s.samples()) {
            sb << "prompt  ${g.prompt()}\n"
            if (g.before() != null) {
                sb << "before  ${indent(g.before())}\n"
            }
            sb << "after   ${indent(g.after())}\n\n"
        }
        sb << String.format('%-16s %,d of %,d parameters (%.3f%%)%n', 'trainable', s.trainableParams(), s.totalParams(),
                s.totalParams() == 0 ? 0d : 100d * s.trainableParams() / s.totalParams())
        if (!Double.isNaN(s.firstLoss())) {
            sb << String.format('%-16s %.4f → %.4f (first step → mean of the last 10%% of steps)%n', 'loss',
                    s.firstLoss(), s.lastLoss())
        }
        sb << String.format('%-16s %s (training %s, %d steps)%n', 'wall time', duration(s.wallSeconds()), duration(s.trainSeconds()), s.steps())
        sb << String.format('%-16s %,.0f tokens/s%n', 'throughput', s.tokensPerSecond())
        sb << String.format('%-16s %.2f GiB%n', 'peak memory', s.peakRssBytes() / (1024d * 1024 * 1024))
        Path run = s.runDir()
        sb << String.format('%-16s %s%n', 'run directory', run != null && run.startsWith(cwd) ? cwd.relativize(run) : run)
        sb.toString()
    }

    /**
     * The metrics a split's row shows: a language model's loss and perplexity, a classifier's accuracy and F1,
     * retrieval's ranking metrics in their usual order; otherwise every metric that is not a count.
     */
    static List<String> headline(String split, Map<String, Double> metrics) {
        if (metrics.containsKey('perplexity')) {
            return ['loss', 'perplexity']
        }
        if (metrics.containsKey('accuracy')) {
            return ['accuracy', 'f1']
        }
        ((split == 'retrieval' ? RETRIEVAL : []) + metrics.keySet()).unique().findAll { !MetricFormat.isCount(it) }
    }

    /** A generation's later lines under its first, so that the prompt / before / after labels stay visible. */
    private static String indent(String text) {
        text.replace('\n', '\n        ')
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
