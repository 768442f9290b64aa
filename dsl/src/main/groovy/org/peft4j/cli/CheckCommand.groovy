package org.peft4j.cli

import org.peft4j.config.ConfigException
import org.peft4j.dsl.Recipe
import org.peft4j.embedding.LossKind
import org.peft4j.run.EmbeddingOptions
import org.peft4j.run.FineTune
import org.peft4j.run.Plan
import org.peft4j.run.RunConfig
import org.peft4j.train.TrainingListener
import picocli.CommandLine.Command
import picocli.CommandLine.Mixin
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Spec

import java.util.concurrent.Callable

/** Resolves a recipe, model, adapter and data, and prints what a run would do and roughly cost; trains nothing. */
@Command(name = 'check', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['Compile and validate a recipe, load model and data, and print the plan: adapted modules,',
                'trainable parameters, data statistics, steps, and a rough estimate of memory and time. Trains nothing.'],
        footer = ['', 'Examples:', '  peft4j check recipes/quickstart.groovy',
                '  peft4j check recipes/quickstart.groovy --set lora.r=16 --set params.lr=1e-4',
                '  peft4j check shared/recipe.groovy    # sandboxed: only the DSL; --allow-code to trust it',
                '', 'Exit codes: 0 valid, 1 resolving failed, 2 a usage or recipe mistake.'])
class CheckCommand implements Callable<Integer> {

    @Mixin
    CommonOptions common

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        Recipe recipe = common.load()
        RunConfig config = recipe.config()
        PrintWriter out = spec.commandLine().out
        if (!common.quiet) {
            out.println("recipe ${common.recipe} is valid; resolving ${config.name()} ...")
            out.flush()
        }
        Plan plan
        try {
            plan = FineTune.plan(config, common.quiet ? TrainingListener.NONE : new ProgressListener(out, false))
        } catch (ConfigException e) {
            throw recipe.locate(e)
        }
        out.print(plan.describe())
        EmbeddingOptions embedding = config.embedding()
        if (embedding != null) {
            boolean negatives = embedding.loss() != LossKind.COSINE
            out.println("objective  ${embedding.loss().name().toLowerCase()}${negatives ? ", temperature ${embedding.temperature()}" : ''}," +
                    " batch ${config.train().batchSize()}${negatives ? " (${config.train().batchSize() - 1} in-batch negatives per example)" : ''}")
        }
        if (recipe.params()) {
            out.println('params     ' + recipe.params().collect { k, v -> "${k} = ${v}" }.join(', '))
        }
        if (recipe.outputDir() != null) {
            out.println("output     ${recipe.outputDir()}")
        }
        if (embedding == null) {
            // its arithmetic is a classifier's or a decoder's: one forward and backward pass per example
            out.print(Estimate.of(config, plan).breakdown)
        }
        out.flush()
        0
    }
}
