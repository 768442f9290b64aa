package org.peft4j.run;

import org.peft4j.dist.ProcessGroup;

import java.nio.file.Path;

/**
 * Where and how a run is written.
 *
 * @param outDir       the run directory (created; must be empty or absent, unless resuming)
 * @param recipeFile   the recipe the run came from, copied into the run directory (null when built in code)
 * @param evalBefore   evaluate the untrained model first, so the summary shows before and after
 * @param resume       continue the run in {@code outDir} from its newest valid checkpoint; a run
 *                     directory with checkpoints and no {@code summary.json} is resumed even without it
 * @param group        the workers this process trains with (data-parallel), {@link ProcessGroup#single()} alone;
 *                     only rank 0 writes {@code outDir}, and the others read its checkpoints when resuming
 */
public record RunOptions(Path outDir, Path recipeFile, boolean evalBefore, boolean resume, ProcessGroup group) {

    public RunOptions {
        group = group == null ? ProcessGroup.single() : group;
    }

    /** A run of one process. */
    public RunOptions(Path outDir, Path recipeFile, boolean evalBefore, boolean resume) {
        this(outDir, recipeFile, evalBefore, resume, ProcessGroup.single());
    }

    /** A new run (or the automatic resume of an unfinished one in {@code outDir}). */
    public RunOptions(Path outDir, Path recipeFile, boolean evalBefore) {
        this(outDir, recipeFile, evalBefore, false);
    }
}
