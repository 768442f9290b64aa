package org.peft4j.run;

import java.nio.file.Path;

/**
 * Where and how a run is written.
 *
 * @param outDir       the run directory (created; must be empty or absent, unless resuming)
 * @param recipeFile   the recipe the run came from, copied into the run directory (null when built in code)
 * @param evalBefore   evaluate the untrained model first, so the summary shows before and after
 * @param resume       continue the run in {@code outDir} from its newest valid checkpoint; a run
 *                     directory with checkpoints and no {@code summary.json} is resumed even without it
 */
public record RunOptions(Path outDir, Path recipeFile, boolean evalBefore, boolean resume) {

    /** A new run (or the automatic resume of an unfinished one in {@code outDir}). */
    public RunOptions(Path outDir, Path recipeFile, boolean evalBefore) {
        this(outDir, recipeFile, evalBefore, false);
    }
}
