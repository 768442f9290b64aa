package org.peft4j.cli

import picocli.CommandLine.Option

/** How far a recipe from elsewhere is trusted: what {@code run}, {@code check} and {@code repl} share. */
class SandboxOptions {

    @Option(names = '--allow-code', description = 'trust the recipe: lift the sandbox that limits a recipe to the DSL')
    boolean allowCode

    // the default is RecipeLoader.TIME_LIMIT (an annotation takes a literal)
    @Option(names = '--recipe-timeout', paramLabel = 'SECONDS', defaultValue = '30',
            description = ['seconds that compiling the recipe, and running it, may each take before it is stopped with its',
                    'file and line (default: ${DEFAULT-VALUE}; 0: no limit); training is not limited'])
    int recipeTimeout

    /** The recipe time limit in seconds (0: none), checked. */
    int timeLimit() {
        if (recipeTimeout < 0) {
            throw new UserError("--recipe-timeout ${recipeTimeout} must be at least 0 seconds (0: no limit)")
        }
        recipeTimeout
    }
}
