package org.peft4j.run

import org.peft4j.io.SafeTensors
import org.peft4j.tensor.Backend
import org.peft4j.train.Checkpoints
import org.peft4j.train.TrainingListener

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption

/**
 * A run finished in {@code dir/whole}, and a copy of it in {@code dir/cut} cut back to one checkpoint, as if the
 * run had been killed right after it, then resumed: both adapters' tensors, by name, to compare.
 */
final class Interrupted {

    final Path whole
    final Path cut
    final Map<String, float[]> wholeAdapter
    final Map<String, float[]> resumedAdapter

    private Interrupted(Path whole, Path cut) {
        this.whole = whole
        this.cut = cut
        this.wholeAdapter = adapter(whole)
        this.resumedAdapter = adapter(cut)
    }

    static Interrupted resumedAt(RunConfig config, Path dir, int step) {
        Path whole = dir.resolve('whole')
        Path cut = dir.resolve('cut')
        FineTune.run(config, new RunOptions(whole, null, false), TrainingListener.NONE)
        Files.walk(whole).withCloseable { s ->
            s.each { Path p -> Files.copy(p, cut.resolve(whole.relativize(p).toString()), StandardCopyOption.REPLACE_EXISTING) }
        }
        cut.resolve('checkpoints').toFile().listFiles().findAll { it.name != Checkpoints.name(step) }.each { it.deleteDir() }
        Files.delete(cut.resolve('summary.json'))
        FineTune.run(config, new RunOptions(cut, null, false, true), TrainingListener.NONE)
        new Interrupted(whole, cut)
    }

    private static Map<String, float[]> adapter(Path run) {
        SafeTensors.read(run.resolve('adapter/adapter_model.safetensors'), Backend.get().manager())
                .collectEntries { k, v -> [k, v.toFloatArray()] } as Map<String, float[]>
    }
}
