package org.peft4j.cli

import org.peft4j.dsl.RecipeLoader
import org.peft4j.run.RunConfig
import picocli.CommandLine.Option
import picocli.CommandLine.Parameters

import java.nio.file.Path

/** What {@code run} and {@code check} share: the recipe, its overrides, and how errors are shown. */
class CommonOptions {

    @Parameters(index = '0', paramLabel = 'RECIPE', description = 'the recipe script (*.groovy)')
    Path recipe

    @Option(names = '--set', paramLabel = 'KEY=VALUE',
            description = ['override a recipe value after the script ran, e.g. --set train.epochs=1 --set lora.r=16',
                    'keys: ${COMPLETION-CANDIDATES}'],
            completionCandidates = OverrideKeys)
    Map<String, String> overrides = new LinkedHashMap<>()

    @Option(names = '--stacktrace', description = 'print the stack trace of an error')
    boolean stacktrace

    RunConfig load() {
        RecipeLoader.load(recipe, overrides)
    }

    /** The keys --set accepts, for the help text. */
    static class OverrideKeys implements Iterable<String> {
        @Override
        Iterator<String> iterator() {
            org.peft4j.dsl.Overrides.keys().keySet().iterator()
        }
    }
}
