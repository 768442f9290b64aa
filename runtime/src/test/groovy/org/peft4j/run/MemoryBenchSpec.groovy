package org.peft4j.run

import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class MemoryBenchSpec extends Specification {

    @TempDir Path tmp

    def "the bench trains a fixed number of steps across epochs and prints resident memory and live arrays"() {
        given: '16 examples in batches of 8: 2 steps per epoch'
        def train = tmp.resolve('train.jsonl')
        Files.write(train, Files.readAllLines(Path.of('../recipes/data/spam/train.jsonl')).take(16))
        def text = new ByteArrayOutputStream()

        when:
        def samples = MemoryBench.run(TinyFineTune.config(train, null), 9, 4, new PrintStream(text, true))

        then:
        samples*.step() == [1, 4, 8, 9]
        samples.every { it.rssBytes() > 0 }
        samples[1].liveArrays() == samples[3].liveArrays()
        text.toString().contains('9 steps (5 epochs of 2)')
        text.toString().contains('live arrays')
    }

    def "a bench with no steps or no sampling interval is refused"() {
        when:
        MemoryBench.run(null, steps, every, System.out)

        then:
        def e = thrown(IllegalArgumentException)
        e.message == "bench needs steps >= 1 and every >= 1 (got steps = ${steps}, every = ${every})".toString()

        where:
        steps | every
        0     | 10
        100   | 0
        -5    | -1
    }
}
