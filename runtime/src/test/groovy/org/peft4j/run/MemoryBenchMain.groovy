package org.peft4j.run

import java.nio.file.Path

/**
 * Runs {@link MemoryBench} on the tiny MiniLM configuration of {@link TinyFineTune} from the
 * command line, for the RSS figures: {@code MemoryBenchMain TRAIN_JSONL [STEPS] [EVERY]}.
 */
final class MemoryBenchMain {

    private MemoryBenchMain() {
    }

    static void main(String[] args) {
        def config = TinyFineTune.config(Path.of(args[0]), null)
        MemoryBench.run(config, args.length > 1 ? args[1] as int : 1000, args.length > 2 ? args[2] as int : 100, System.out)
    }
}
