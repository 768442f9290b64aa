package org.peft4j.run;

import java.nio.file.Path;

/**
 * Where and how a run is written.
 *
 * @param outDir       the run directory (created; must be empty or absent)
 * @param recipeFile   the recipe the run came from, copied into the run directory (null when built in code)
 * @param evalBefore   evaluate the untrained model first, so the summary shows before and after
 */
public record RunOptions(Path outDir, Path recipeFile, boolean evalBefore) {
}
