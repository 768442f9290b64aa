package org.peft4j.cli

import org.peft4j.dsl.Recipe
import org.peft4j.dsl.RecipeLoader
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

    @Option(names = '--allow-code', description = 'trust the recipe: lift the sandbox that limits a recipe to the DSL')
    boolean allowCode

    // the default is RecipeLoader.TIME_LIMIT (an annotation takes a literal)
    @Option(names = '--recipe-timeout', paramLabel = 'SECONDS', defaultValue = '30',
            description = ['seconds that compiling the recipe, and running it, may each take before it is stopped with its',
                    'file and line (default: ${DEFAULT-VALUE}; 0: no limit); training is not limited'])
    int recipeTimeout

    @Option(names = ['-q', '--quiet'], description = 'print only the result and errors (the run log still goes to run.log)')
    boolean quiet

    @Option(names = ['-v', '--verbose'], description = 'log every training step')
    boolean verbose

    @Option(names = '--stacktrace', description = 'print the stack trace of an error')
    boolean stacktrace

    /** A run directory given instead of a recipe: its recorded recipe, includes and overrides. */
    RunRecord rerunOf() {
        Files.isDirectory(recipe) ? RunRecord.read(recipe) : null
    }

    Recipe load() {
        RunRecord previous = rerunOf()
        if (recipeTimeout < 0) {
            throw new UserError("--recipe-timeout ${recipeTimeout} must be at least 0 seconds (0: no limit)")
        }
        previous == null ? RecipeLoader.loadRecipe(recipe, overrides, allowCode, [:], recipeTimeout)
                : previous.load(overrides, allowCode, recipeTimeout)
    }

    /** The keys --set accepts, for the help text and shell completion. */
    static class OverrideKeys implements Iterable<String> {
        @Override
        Iterator<String> iterator() {
            org.peft4j.dsl.Overrides.keys().keySet().iterator()
        }
    }
}
