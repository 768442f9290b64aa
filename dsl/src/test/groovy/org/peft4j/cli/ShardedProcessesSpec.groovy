package org.peft4j.cli

import groovy.json.JsonSlurper
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * perplexity as two worker JVMs that know each other only through torchrun's variables, joined by c10d's
 * Gloo on 127.0.0.1, against one process in this JVM: the same rows in input order and the same corpus line.
 */
class ShardedProcessesSpec extends Specification {

    @Shared @TempDir
    Path dir

    static int freePort() {
        new ServerSocket(0).withCloseable { it.localPort }
    }

    /** Starts {@code args} as worker {@code rank} of {@code n}, with this JVM's classpath and the c10d agent's. */
    static Process worker(int rank, int n, int port, Path log, List<String> args) {
        List<String> command = [Path.of(System.getProperty('java.home'), 'bin', 'java').toString(), '-Dai.djl.offline=true',
                                "-Dpeft4j.c10d.classpath=${System.getProperty('peft4j.c10d.classpath')}".toString(),
                                '-Xmx1g', '-cp', System.getProperty('java.class.path'), 'org.peft4j.cli.Main'] + args
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
        pb.environment().putAll(RANK: "$rank".toString(), WORLD_SIZE: "$n".toString(), LOCAL_RANK: "$rank".toString(),
                MASTER_ADDR: '127.0.0.1', MASTER_PORT: "$port".toString(), OMP_NUM_THREADS: '1')
        pb.start()
    }

    def "perplexity by 2 worker processes writes the rows and prints the corpus line one process does"() {
        given: 'a tiny Llama and 9 lines of different lengths, one of a single token'
        Path model = TinyCausalLmDir.write(dir.resolve('tiny'), 5)
        Random random = new Random(17)
        List<String> lines = (0..<8).collect { (0..random.nextInt(30)).collect { 'abcdefgh ijklmnop.'[random.nextInt(18)] }.join('') } + ['z']
        Path text = Files.writeString(dir.resolve('lines.txt'), lines.join('\n') + '\n')
        Path one = dir.resolve('one.jsonl')
        Path two = dir.resolve('two.jsonl')
        List<String> args = ['perplexity', '--model', model.toString(), '--input', text.toString(), '--out']
        int port = freePort()

        when:
        Cli alone = Cli.run((args + [one.toString()]) as String[])
        List<Process> workers = (0..1).collect { worker(it, 2, port, dir.resolve("worker-${it}.log"), args + [two.toString()]) }
        List<Boolean> ended = workers.collect { it.waitFor(3, TimeUnit.MINUTES) }
        List<String> logs = (0..1).collect { Files.readString(dir.resolve("worker-${it}.log")) }

        then:
        ended.every()
        // what the workers printed, should one of them fail
        assert workers*.exitValue() == [0, 0]: logs.join('\n')
        Files.readAllLines(two).size() == lines.size()
        rows(two)*.line == rows(one)*.line
        rows(two)*.tokens == rows(one)*.tokens
        (0..<lines.size()).every { close(rows(two)[it].nll, rows(one)[it].nll) }
        !Files.list(dir).withCloseable { s -> s.anyMatch { it.fileName.toString().contains('.part-') } }

        and: 'rank 0 prints the corpus line (6 digits of the mean NLL) as one process does; rank 1 prints nothing of it'
        logs[0].readLines().contains(alone.out.toString().trim().replace(one.toString(), two.toString()))
        !logs[1].contains('corpus:')

        cleanup:
        workers?.each { it.destroyForcibly() }
    }

    def "embed --nproc 2 starts two workers whose joined output is the one process's, rank 1 printing no summary"() {
        given: 'the tiny BERT of the Hugging Face fixtures and 7 texts with ids'
        Path model = Path.of('../runtime/src/test/resources/hf/bert-base/model')
        List<String> words = ['a', 'big', 'dog', 'likes', 'the', 'moon', 'and', 'bad', 'cat']
        Random random = new Random(23)
        Path input = Files.write(dir.resolve('docs.jsonl'), (0..<7).collect { int i ->
            '{"id": ' + i + ', "text": "' + (0..random.nextInt(8)).collect { words[random.nextInt(words.size())] }.join(' ') + '"}'
        })
        Path one = dir.resolve('one-embed.jsonl')
        Path two = dir.resolve('two-embed.jsonl')
        List<String> args = ['embed', '--model', model.toString(), '--input', input.toString(), '--batch-size', '2', '--out']

        when:
        Cli alone = Cli.run((args + [one.toString()]) as String[])
        Cli launched = Cli.run((args + [two.toString(), '--nproc', '2']) as String[])

        then:
        assert launched.code == 0: launched.err.toString()
        rows(two)*.id == rows(one)*.id
        (0..<7).every { int i -> (0..<32).every { close(rows(two)[i].embedding[it], rows(one)[i].embedding[it]) } }
        !Files.list(dir).withCloseable { s -> s.anyMatch { it.fileName.toString().contains('.part-') } }
        // rank 0 writes to this JVM's terminal; the other ranks' lines come here, and rank 1 has no summary to print
        !launched.err.toString().contains('embedded 7 texts')
    }

    def "perplexity --nproc 2 without --out exits 2 before starting any worker"() {
        when:
        Cli c = Cli.run('perplexity', '--model', 'any', '--input', 'pom.xml', '--nproc', '2')

        then:
        c.code == 2
        c.err.toString().contains('perplexity --nproc 2 needs --out FILE')
    }

    static List<Map> rows(Path file) {
        Files.readAllLines(file).collect { new JsonSlurper().parseText(it) as Map }
    }

    static boolean close(Object a, Object b) {
        a == null ? b == null : Math.abs((a as double) - (b as double)) <= 1e-5 * Math.max(1d, Math.abs(b as double))
    }
}
