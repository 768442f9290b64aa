package org.peft4j.recipes

import java.nio.file.Files
import java.nio.file.Path

/**
 * decoder/mail-llama-scratch.groovy run shortened (a few steps on a few mails), once per test JVM: its output,
 * and its run directory, whose model/ the LoRA recipes start from in their specs.
 */
class ShortScratchRun {

    static final int STEPS = 4
    static final int MAILS = 40
    static final int VALID_MAILS = 4

    private static Peft4j result
    private static Path dir

    static synchronized Path dir() {
        if (dir == null) {
            Path tmp = Files.createTempDirectory('mail-llama-')
            tmp.toFile().deleteOnExit()
            Path valid = tmp.resolve('valid.jsonl')
            Files.write(valid, Files.readAllLines(Path.of('data/mail/valid.jsonl')).take(VALID_MAILS))
            dir = tmp.resolve('run')
            result = Peft4j.run(['run', 'decoder/mail-llama-scratch.groovy', '--out', dir.toString(),
                                 '--set', "train.maxSteps=${STEPS}".toString(), '--set', "data.limit=${MAILS}".toString(),
                                 '--set', "data.valid=${valid}".toString()])
            if (result.code != 0) {
                throw new IllegalStateException("the shortened scratch run failed (exit ${result.code}):\n${result.err}\n${result.out}")
            }
        }
        dir
    }

    static synchronized Peft4j result() {
        dir()
        result
    }
}
