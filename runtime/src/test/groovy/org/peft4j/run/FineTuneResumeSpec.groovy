package org.peft4j.run

import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.config.ConfigException
import org.peft4j.train.MetricMode
import org.peft4j.train.TrainingListener
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest
import java.util.concurrent.TimeUnit

class FineTuneResumeSpec extends Specification {

    @TempDir Path tmp

    static final Path SPAM = Path.of('../recipes/data/spam')
    static final ObjectMapper JSON = new ObjectMapper()

    Path head(String split, int n) {
        def out = tmp.resolve("${split}-${n}.jsonl")
        Files.write(out, Files.readAllLines(SPAM.resolve("${split}.jsonl")).take(n))
        out
    }

    static List<Double> trainLosses(Path run) {
        Files.readAllLines(run.resolve('metrics.jsonl')).collect { JSON.readTree(it) }
                .findAll { it.path('type').asText() == 'train' }.collect { it.path('loss').asDouble() }
    }

    static int lastStep(Path run) {
        def f = run.resolve('metrics.jsonl')
        if (!Files.exists(f)) return 0
        Files.readAllLines(f).findAll { it.contains('"type":"train"') }
                .collect { JSON.readTree(it).path('step').asInt() }.max() ?: 0
    }

    static String sha256(Path f) {
        MessageDigest.getInstance('SHA-256').digest(Files.readAllBytes(f)).encodeHex().toString()
    }

    /** A child JVM running {@link TinyFineTune}'s main: a fresh process, as a user's run is. */
    Process child(Path out, Path train, Path valid, boolean resume) {
        def java = Path.of(System.getProperty('java.home'), 'bin', 'java').toString()
        def cmd = [java, '-Dai.djl.offline=true', '-Xmx2g', '-cp', System.getProperty('java.class.path'),
                   TinyFineTune.name, out.toString(), train.toString(), valid.toString()] + (resume ? ['resume'] : [])
        new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(tmp.resolve('child.log').toFile())).start()
    }

    def "a run killed with SIGKILL and resumed gives exactly the loss sequence and adapter of the uninterrupted run"() {
        given:
        def train = head('train', 60)
        def valid = head('valid', 16)
        def config = TinyFineTune.config(train, valid)

        and: 'the uninterrupted run, like every run here in a process of its own as a user runs it'
        def whole = tmp.resolve('whole')
        assert child(whole, train, valid, false).waitFor(300, TimeUnit.SECONDS)
        def expected = trainLosses(whole)

        when: 'the same run in a child JVM, killed once metrics.jsonl shows a step past the checkpoint of step 4'
        def killed = tmp.resolve('killed')
        def killedProcess = child(killed, train, valid, false)
        long deadline = System.currentTimeMillis() + 300_000
        while (lastStep(killed) < 5 && killedProcess.alive && System.currentTimeMillis() < deadline) {
            Thread.sleep(50)
        }
        int stepAtKill = lastStep(killed)
        killedProcess.destroyForcibly().waitFor(30, TimeUnit.SECONDS)

        then: 'it died mid-run, with a checkpoint behind it'
        stepAtKill >= 5 && stepAtKill < 12
        !Files.exists(killed.resolve('summary.json'))
        Files.isDirectory(killed.resolve('checkpoints'))

        when: 'the run is resumed in a new process'
        def resumer = child(killed, train, valid, true)
        resumer.waitFor(300, TimeUnit.SECONDS)

        then: 'the loss sequence is the same doubles, step for step, and so is the adapter'
        resumer.exitValue() == 0
        JSON.readTree(killed.resolve('summary.json').toFile()).path('steps').asInt() == 12
        expected.size() == 12
        trainLosses(killed) == expected
        sha256(killed.resolve('adapter/adapter_model.safetensors')) == sha256(whole.resolve('adapter/adapter_model.safetensors'))
        JSON.readTree(killed.resolve('summary.json').toFile()).path('resumed_from_step').asInt() in (4..stepAtKill)

        and: 'the run directory has the table, the plots and the report'
        ['metrics.csv', 'loss.png', 'lr.png', 'eval.png', 'report.html'].every { Files.size(killed.resolve(it)) > 0 }
        Files.readAllLines(killed.resolve('metrics.csv')).size() == Files.readAllLines(killed.resolve('metrics.jsonl')).size() + 1
        Files.readString(killed.resolve('report.html')).contains('<img src="loss.png"')
    }

    def "a run directory that cannot be resumed or reused is refused with a reason"() {
        given:
        def out = tmp.resolve('out')
        Files.createDirectories(out)
        files.each { name, text -> Files.createDirectories(out.resolve(name).parent); Files.writeString(out.resolve(name), text) }
        def train = head('train', 16)

        when:
        FineTune.run(TinyFineTune.config(train, train), new RunOptions(out, null, false, resume), TrainingListener.NONE)

        then:
        def e = thrown(UncheckedIOException)
        e.message.contains(message)

        where:
        files                                    | resume || message
        [:]                                      | true   || 'nothing to resume in'
        ['summary.json': '{}']                   | true   || 'already holds a run (summary.json)'
        ['summary.json': '{}']                   | false  || 'already holds a run (summary.json)'
        ['metrics.jsonl': '{"type":"train"}\n']  | false  || 'left no checkpoint to resume from'
        ['checkpoints/notes.txt': 'x']           | true   || 'nothing to resume in'
    }

    def "a best metric without a validation set is a configuration error that says what to add"() {
        given:
        def train = head('train', 16)
        def base = TinyFineTune.config(train, null)
        def config = new RunConfig(base.name(), base.backend(), base.model(), base.lora(), base.data(), base.optimizer(),
                base.schedule(), base.train().withBest('valid.f1', MetricMode.MAX))

        when:
        FineTune.run(config, new RunOptions(tmp.resolve('x'), null, false), TrainingListener.NONE)

        then:
        def e = thrown(ConfigException)
        e.message.contains("train.bestMetric = 'valid.f1' is measured on the validation set, but data.valid is missing")
    }
}
