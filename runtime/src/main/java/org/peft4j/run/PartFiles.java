package org.peft4j.run;

import org.peft4j.dist.ProcessGroup;
import org.peft4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * One output file written by all the workers of a sharded batch job: each worker writes its block's
 * rows to its own part file beside the output ({@code OUT.part-00001-of-00004}), then, once every
 * part is there, rank 0 joins the parts in rank order into {@code OUT} and deletes them. The parts
 * sit on the output's filesystem, so the workers must share it (one machine, or a shared volume).
 * Every file is written atomically: a reader never sees half an output or half a part.
 */
public final class PartFiles {

    private PartFiles() {
    }

    /** Where worker {@code rank} of {@code worldSize} writes its part of {@code output}. */
    public static Path part(Path output, int rank, int worldSize) {
        return output.resolveSibling(output.getFileName()
                + String.format(Locale.ROOT, ".part-%05d-of-%05d", rank, worldSize));
    }

    /**
     * Writes this worker's rows with {@code rows}, and returns once {@code output} holds every
     * worker's rows in rank order; alone, writes {@code output} directly. Every worker of
     * {@code group} must call it.
     */
    public static void write(ProcessGroup group, Path output, AtomicFiles.Writer rows) throws IOException {
        int workers = group.world().worldSize();
        if (workers == 1) {
            AtomicFiles.write(output, rows);
            return;
        }
        int rank = group.world().rank();
        AtomicFiles.write(part(output, rank, workers), rows);
        group.barrier();
        if (rank == 0) {
            AtomicFiles.write(output, out -> {
                for (int r = 0; r < workers; r++) {
                    Path part = part(output, r, workers);
                    if (!Files.isRegularFile(part)) {
                        throw new IOException(part + " is missing: worker " + r + " wrote its part on a"
                                + " filesystem rank 0 does not see; the workers of a sharded job must share"
                                + " the output's directory");
                    }
                    Files.copy(part, out);
                }
            });
            for (int r = 0; r < workers; r++) {
                Files.deleteIfExists(part(output, r, workers));
            }
        }
        // every worker returns once the output is whole, so that any of them may read it next
        group.barrier();
    }
}
