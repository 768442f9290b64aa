package org.peft4j.cli

import org.peft4j.run.FineTune
import org.peft4j.run.Plan
import picocli.CommandLine.Command
import picocli.CommandLine.Mixin
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Spec

import java.util.concurrent.Callable

/** Resolves a recipe, model, adapter and data, and prints what a run would do; trains nothing. */
@Command(name = 'check', mixinStandardHelpOptions = true,
        description = 'Compile and validate a recipe, load model and data, and print the plan: adapted modules, ' +
                'trainable parameters, data statistics and steps. Trains nothing.',
        footer = ['', 'Example:', '  peft4j check recipes/spam-lora.groovy --set lora.r=16'])
class CheckCommand implements Callable<Integer> {

    @Mixin
    CommonOptions common

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        def config = common.load()
        PrintWriter out = spec.commandLine().out
        out.println("recipe ${common.recipe} is valid; resolving ${config.name()} ...")
        out.flush()
        Plan plan = FineTune.plan(config, new ProgressListener(out))
        out.print(plan.describe())
        out.flush()
        0
    }
}
