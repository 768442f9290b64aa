package org.peft4j.cli

import org.peft4j.dsl.Recipe
import org.peft4j.dsl.RecipeLoader
import picocli.CommandLine.Mixin
import picocli.CommandLine.Option
import picocli.CommandLine.Parameters

import java.nio.file.Files
import java.nio.file.Path

/** What {@code run} and {@code check} share: the recipe, its overrides, the sandbox, and how much is shown. */
class CommonOptions {

    @Parameters(index = '0', paramLabel = 'RECIPE', description = 'the recipe script (*.groovy), or a run directory to rerun')
    Path recipe

    @Option(names = '--set', paramLabel = 'KEY=VALUE',
            description = ['override a recipe value after the script ran, e.g. --set train.epochs=1 --set lora.r=16;',
                    'params.NAME=VALUE sets a value the recipe declares in params { }',
                    'keys: ${COMPLETION-CANDIDATES}, params.NAME'],
            completionCandidates = OverrideKeys)
    Map<String, String> overrides = new LinkedHashMap<>()

    @Mixin
    SandboxOptions sandbox = new SandboxOptions()

    @Option(names = ['-q', '--quiet'], description = 'print only the result and errors (the run log still goes to run.log)')
    boolean quiet

    @Option(names = ['-v', '--verbose'], description = 'log every training step')
    boolean verbose

    @Option(names = '--stacktrace', description = 'print the stack trace of an error')
    boolean stacktrace

    /** --allow-code: the recipe is trusted. */
    boolean getAllowCode() {
        sandbox.allowCode
    }

    /** A run directory given instead of a recipe: its recorded recipe, includes and overrides. */
    RunRecord rerunOf() {
        Files.isDirectory(recipe) ? RunRecord.read(recipe) : null
    }

    Recipe load() {
        RunRecord previous = rerunOf()
        int timeLimit = sandbox.timeLimit()
        previous == null ? RecipeLoader.loadRecipe(recipe, overrides, allowCode, [:], timeLimit)
                : previous.load(overrides, allowCode, timeLimit)
    }

    /** The keys --set accepts, for the help text and shell completion. */
    static class OverrideKeys implements Iterable<String> {
        @Override
        Iterator<String> iterator() {
            org.peft4j.dsl.Overrides.keys().keySet().iterator()
        }
    }
}
