package org.peft4j.dsl

import org.peft4j.config.ConfigException
import org.peft4j.run.RunConfig

import java.nio.file.Path

/**
 * A loaded recipe: the validated run configuration, whatever its task, and what the host needs around it.
 *
 * @param config     the validated configuration
 * @param outputDir  the run directory that {@code output { dir '...' }} asked for, or null
 * @param params     the recipe's {@code params}, overrides applied
 * @param files      the recipe file first, then every file it starts {@code from}, as absolute paths
 * @param overrides  the {@code --set} overrides that were applied, in order
 * @param origins    where each value was set, to place problems found later
 * @param shownAs    the recipe as messages name it
 */
record Recipe(RunConfig config, Path outputDir, Map<String, Object> params, List<Path> files, Map<String, String> overrides,
              Origins origins, String shownAs) {

    /** The run's name. */
    String name() {
        config.name()
    }

    /**
     * Problems the runtime finds only once model and data are loaded (e.g. AdaLoRA's tinit + tfinal against the
     * run's step count), placed at the recipe line that set the field, as load-time problems are.
     */
    RecipeException locate(ConfigException e) {
        new RecipeException(e.problems().collect { String m -> origins.locate(m).format(shownAs) })
    }
}
