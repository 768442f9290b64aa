package org.peft4j.run;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.peft.adalora.AdaLoraHook;
import org.peft4j.peft.adalora.AllocationReport;
import org.peft4j.train.TrainingListener;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;

/** Where an AdaLoRA run's rank budget went: the final ranks as a table, PNGs, and the summary's "adalora" part. */
final class AllocationSummary {

    private AllocationSummary() {
    }

    /** Writes adalora-ranks.txt and the allocation plots into the run directory; returns the summary's part. */
    static ObjectNode write(RunSession session, AdaLoraHook hook, RunDirectory dir, TrainingListener listener)
            throws IOException {
        AllocationReport allocation = hook.report();
        Map<String, Integer> ranks = session.adalora.ranks();
        int initR = session.adalora.config().initR();
        String table = AllocationReport.table(ranks, initR) + String.format("pruned, then kept again at a later"
                + " allocation: %d triplets, %d times%n", hook.allocator().returnedTriplets(), allocation.returns());
        listener.onPhase("AdaLoRA final ranks (layer × module):\n" + table);
        Files.writeString(dir.path().resolve("adalora-ranks.txt"), table);
        allocation.write(ranks, initR, dir.path());
        ObjectNode n = RunManifest.JSON.createObjectNode();
        n.put("initial_budget", session.adalora.allocator().schedule().initialBudget());
        n.put("final_budget", session.adalora.allocator().schedule().finalBudget());
        n.put("kept", ranks.values().stream().mapToInt(Integer::intValue).sum());
        n.put("returns", allocation.returns());
        n.put("returned_triplets", hook.allocator().returnedTriplets());
        n.set("returns_per_module", RunManifest.JSON.valueToTree(hook.allocator().returnsPerLayer()));
        n.put("budget_csv", AllocationReport.BUDGET_CSV);
        n.set("ranks", RunManifest.JSON.valueToTree(ranks));
        n.put("heatmap", AllocationReport.HEATMAP);
        n.put("budget_plot", AllocationReport.BUDGET);
        return n;
    }
}
