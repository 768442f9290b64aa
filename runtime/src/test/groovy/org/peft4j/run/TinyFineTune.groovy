package org.peft4j.run

import org.peft4j.data.DataConfig
import org.peft4j.models.ModelSpec
import org.peft4j.models.TaskType
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.tensor.BackendConfig
import org.peft4j.train.OptimizerConfig
import org.peft4j.train.ScheduleConfig
import org.peft4j.train.TrainConfig
import org.peft4j.train.TrainingListener

import java.nio.file.Files
import java.nio.file.Path

/**
 * A tiny real fine-tune of the embedded MiniLM (48 examples, length 32, batch 8, 2 epochs = 12
 * steps, a checkpoint every 2, adapter dropout on), and a main that runs it in a child JVM so a
 * spec can kill it with SIGKILL: {@code TinyFineTune OUT_DIR TRAIN_JSONL VALID_JSONL}.
 */
final class TinyFineTune {

    private TinyFineTune() {
    }

    /** The first {@code n} lines of a split of the spam data, written into {@code dir}, so a run takes seconds. */
    static Path spamHead(Path dir, String split, int n) {
        Path out = dir.resolve("${split}-${n}.jsonl")
        Files.write(out, Files.readAllLines(Path.of('../recipes/data/spam').resolve("${split}.jsonl")).take(n))
        out
    }

    static RunConfig config(Path train, Path valid) {
        new RunConfig('tiny-resume', BackendConfig.defaults(),
                new ModelSpec('minilm', null, TaskType.CLASSIFICATION, ['ham', 'spam']),
                LoraConfig.of(4, 8, 0.1, ['query', 'value'], ['classifier']),
                new DataConfig(train, valid, null, 'text', 'label', 32, 48),
                OptimizerConfig.adamW(2e-3, 0.01), ScheduleConfig.linear(0.1),
                new TrainConfig(2, 8, 1, 1.0, 42, 6, 0, 16).withCheckpoints(2, 2))
    }

    /** args: run directory, train file, valid file[, "resume"]. */
    static void main(String[] args) {
        boolean resume = args.length > 3 && args[3] == 'resume'
        FineTune.run(config(Path.of(args[1]), Path.of(args[2])), new RunOptions(Path.of(args[0]), null, false, resume),
                TrainingListener.NONE)
    }
}
