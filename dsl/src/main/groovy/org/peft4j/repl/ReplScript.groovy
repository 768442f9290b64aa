package org.peft4j.repl

import org.peft4j.config.ConfigException
import org.peft4j.run.RunOptions
import org.peft4j.run.SteppedRun
import org.peft4j.train.Trainer

import java.nio.file.Files
import java.nio.file.Path
import java.time.LocalDateTime
import java.time.format.DateTimeFormatter

/**
 * The base of every line typed into the REPL: short verbs over the runtime. A recipe is loaded
 * ({@code load}) or written inline ({@code recipe}), trained a few steps at a time ({@code train}), looked at
 * ({@code evaluate}, {@code predict}, {@code generate}, {@code plot}) and saved ({@code save}, {@code merge}), in
 * the run directories and with the numbers of {@code peft4j run}.
 */
abstract class ReplScript extends Script {

    /** The verbs, for help and completion. */
    static final List<String> VERBS = ['load', 'recipe', 'train', 'evaluate', 'predict', 'generate', 'save', 'merge', 'plot']

    protected ReplContext ctx() {
        ((ReplBinding) binding).context
    }

    @Override
    void println(Object value) {
        ctx().out.println(value)
        ctx().out.flush()
    }

    @Override
    void print(Object value) {
        ctx().out.print(value)
        ctx().out.flush()
    }

    /**
     * Loads a recipe file, sandboxed to the DSL as {@code peft4j run} loads it: {@code recipe = load 'recipes/x.groovy'}.
     * Options: {@code allowCode: true} trusts it (as --allow-code), {@code timeout: SECONDS} (as --recipe-timeout).
     */
    ReplRecipe load(Map options, String path) {
        Path file = Path.of(path)
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("${path}: no such recipe file (in ${Path.of('').toAbsolutePath()})")
        }
        new ReplRecipe(file, file, sandbox(options), timeout(options))
    }

    ReplRecipe load(String path) {
        load([:], path)
    }

    /**
     * A recipe written here with the DSL's blocks, e.g. {@code r = recipe '''model { source 'minilm' ... }'''};
     * relative paths in it are read from the current folder. Loaded like a recipe file (same sandbox and checks).
     */
    ReplRecipe recipe(Map options, String text) {
        ReplContext c = ctx()
        Files.createDirectories(c.scratch)
        String name = "inline-${++c.inline}.groovy"
        Path source = c.scratch.resolve(name)
        Files.writeString(source, text.stripIndent())
        new ReplRecipe(Path.of(name), source, sandbox(options), timeout(options))
    }

    ReplRecipe recipe(String text) {
        recipe([:], text)
    }

    private boolean sandbox(Map options) {
        options.containsKey('allowCode') ? options.allowCode as boolean : ctx().allowCode
    }

    private int timeout(Map options) {
        options.containsKey('timeout') ? options.timeout as int : ctx().recipeTimeout
    }

    /**
     * Opens a run of {@code recipe} and trains {@code steps:} optimizer steps of its plan (all by default):
     * {@code session = train recipe, steps: 20}. The run directory is {@code out:}, else the recipe's
     * {@code output { dir }}, else runs/NAME-TIME, as for {@code peft4j run}; {@code evalBefore: false} skips
     * evaluating the untrained model.
     */
    ReplSession train(Map options, ReplRecipe recipe) {
        ReplContext c = ctx()
        Path dir = options.out != null ? Path.of(options.out as String) : runDirectory(recipe)
        RunOptions run = new RunOptions(dir.toAbsolutePath().normalize(), recipe.source.toAbsolutePath(),
                options.evalBefore == null || options.evalBefore as boolean)
        SteppedRun opened
        try {
            opened = SteppedRun.open(recipe.config, run, c.progress.call())
        } catch (ConfigException e) {
            throw recipe.recipe.locate(e)
        }
        ReplSession session = new ReplSession(recipe, opened)
        c.sessions << session
        train(options, session)
    }

    ReplSession train(ReplRecipe recipe) {
        train([:], recipe)
    }

    /**
     * Trains the session on: {@code train session, steps: 20} continues where the last call stopped, with the
     * same state a resume would have (all remaining steps without {@code steps:}). Ctrl-C stops after the step in
     * progress. Prints a sparkline of the losses so far.
     */
    ReplSession train(Map options, ReplSession session) {
        ReplContext c = ctx()
        if (session.run.trained()) {
            c.out.println("${session.recipe.name} has done all ${session.steps} planned steps; save it, or load the recipe with more (recipe.set 'train.maxSteps', N)")
            return session
        }
        int steps = options.steps == null ? Integer.MAX_VALUE : options.steps as int
        c.interrupted.set(false)
        Trainer.Result r = session.run.train(steps, { -> c.interrupted.get() })
        if (c.interrupted.getAndSet(false) && !session.run.trained()) {
            c.out.println("stopped by Ctrl-C at step ${session.step} of ${session.steps}; train session goes on from there")
        }
        if (session.loss) {
            c.out.println(String.format('loss %s  %.4f → %.4f  (step %d of %d)', Sparkline.of(session.loss),
                    session.loss.first(), session.loss.last(), session.step, session.steps))
        }
        c.out.flush()
        session
    }

    ReplSession train(ReplSession session) {
        train([:], session)
    }

    /** Evaluates every split of the run now; returns metrics by split, printed as a table. */
    Map<String, Map<String, Double>> evaluate(ReplSession session) {
        Map<String, Map<String, Double>> m = session.run.evaluate()
        session.evaluated(m)
        m
    }

    /** The classifier's label and probabilities for a text: {@code predict session, 'Win a FREE cruise now!!!'}. */
    Prediction predict(ReplSession session, String text) {
        predict(session, [text]).first()
    }

    List<Prediction> predict(ReplSession session, List<String> texts) {
        float[][] logits = session.run.logits(texts)
        List<String> labels = session.run.labels()
        (0..<texts.size()).collect { int i -> new Prediction(texts[i], labels, logits[i]) }
    }

    /** A causal language model's greedy continuation: {@code generate session, 'Q: …', maxNewTokens: 64}. */
    String generate(Map options, ReplSession session, String prompt) {
        int n = options.maxNewTokens != null ? options.maxNewTokens as int : session.run.config().causalLm()?.maxNewTokens() ?: 64
        session.run.generate(prompt, n)
    }

    String generate(ReplSession session, String prompt) {
        generate([:], session, prompt)
    }

    /**
     * Ends training: evaluates, writes the adapter, summary.json, metrics.csv, plots and report.html into the
     * run directory, and prints the result as {@code peft4j run} does.
     */
    void save(ReplSession session) {
        boolean first = session.summary == null
        def summary = session.run.finish()
        if (first) {
            ctx().out.print(ctx().report(summary))
            ctx().out.flush()
        }
    }

    /** Saves the session if not yet, then merges its adapter into the base model as {@code peft4j merge} does. */
    void merge(ReplSession session, String out) {
        save(session)
        int code = ctx().merge.call(['merge', '--model', session.run.modelDir().toString(), '--adapter',
                                       session.run.adapterDir().toString(), '--out', out])
        if (code != 0) {
            throw new IllegalStateException("merging into ${out} failed (exit ${code}); the adapter is in ${session.run.adapterDir()}")
        }
    }

    /** Writes loss.png, lr.png and eval.png of the steps so far into the run directory and prints their paths. */
    void plot(ReplSession session) {
        session.run.plot().each { ctx().out.println(ReplPaths.shown(it)) }
        ctx().out.flush()
    }

    /** As {@code peft4j run} names it: the recipe's output { dir } when unused, else runs/NAME-TIME. */
    private static Path runDirectory(ReplRecipe recipe) {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern('yyyyMMdd-HHmmss'))
        Path asked = recipe.recipe.outputDir()
        if (asked != null) {
            boolean used = Files.exists(asked.resolve('summary.json')) || Files.exists(asked.resolve('metrics.jsonl'))
            return used ? asked.resolveSibling("${asked.fileName}-${stamp}") : asked
        }
        Path dir = Path.of('runs', "${recipe.name}-${stamp}")
        // two sessions of one recipe within a second
        for (int k = 2; Files.exists(dir); k++) {
            dir = Path.of('runs', "${recipe.name}-${stamp}-${k}")
        }
        dir
    }
}
