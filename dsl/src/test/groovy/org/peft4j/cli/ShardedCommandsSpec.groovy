package org.peft4j.cli

import groovy.json.JsonSlurper
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * predict, embed and perplexity sharded over N workers (threads of this JVM with a group of their own)
 * write what one process writes: the same rows in input order, numbers equal to 1e-5, and rank 0's report.
 */
class ShardedCommandsSpec extends Specification {

    static final Path HF = Path.of('../runtime/src/test/resources/hf')

    @Shared @TempDir
    Path dir

    @Shared Path classifier
    @Shared Path input
    @Shared Path decoder
    @Shared Path text

    def setupSpec() {
        // PEFT's tiny BERT classifier (red/green/blue) with the tiny BERT's word-level tokenizer (its 64 ids fit the 80 rows)
        classifier = Files.createDirectories(dir.resolve('seqcls'))
        ['config.json', 'model.safetensors'].each { Files.copy(HF.resolve("bert-seqcls/model/$it"), classifier.resolve(it)) }
        Files.copy(HF.resolve('bert-base/model/tokenizer.json'), classifier.resolve('tokenizer.json'))
        List<String> words = ['a', 'big', 'dog', 'likes', 'the', 'moon', 'and', 'bad', 'cat', 'dark', 'day', 'bird', 'blue', 'good']
        Random random = new Random(11)
        // 11 texts of 1 to 9 words, so that batches pad, with blank lines between some of them
        StringBuilder jsonl = new StringBuilder()
        StringBuilder plain = new StringBuilder()
        for (int i = 0; i < 11; i++) {
            String t = (0..random.nextInt(9)).collect { words[random.nextInt(words.size())] }.join(' ')
            jsonl << "{\"id\": \"t$i\", \"text\": \"$t\"}\n"
            plain << t.replace('a ', 'abc ') << '\n'
            if (i % 4 == 1) {
                jsonl << '\n'
                plain << '\n'
            }
        }
        input = Files.writeString(dir.resolve('texts.jsonl'), jsonl.toString())
        decoder = TinyCausalLmDir.write(dir.resolve('tiny-llama'), 5)
        text = Files.writeString(dir.resolve('texts.txt'), plain.toString() + 'z\n')
    }

    static List<Map> rows(Path file) {
        Files.readAllLines(file).collect { new JsonSlurper().parseText(it) as Map }
    }

    /** Equal rows: the same non-number fields, and numbers (lists of them included) within 1e-5. */
    static boolean same(List<Map> a, List<Map> b, String field) {
        a.size() == b.size() && (0..<a.size()).every { int i ->
            a[i].findAll { it.key != field } == b[i].findAll { it.key != field } && close(a[i][field], b[i][field])
        }
    }

    static boolean close(Object x, Object y) {
        if (x instanceof List) {
            return x.size() == (y as List).size() && (0..<x.size()).every { close(x[it], y[it]) }
        }
        x == null ? y == null : Math.abs((x as double) - (y as double)) <= 1e-5 * Math.max(1d, Math.abs(y as double))
    }

    static List<String> parts(Path out) {
        Files.list(out.parent).withCloseable { s -> s.map { it.fileName.toString() }.filter { it.contains('.part-') }.toList() }
    }

    def "predict by #n workers writes the rows one process writes, in input order, and removes the part files"() {
        given:
        Path one = dir.resolve("predict-1-${n}.jsonl")
        Path many = dir.resolve("predict-${n}.jsonl")
        List<String> args = ['predict', '--model', classifier.toString(), '--input', input.toString(), '--batch-size', '3']

        when:
        Cli alone = Cli.run((args + ['--out', one.toString()]) as String[])
        List<Cli> workers = Cli.workers(n, (args + ['--out', many.toString()]) as String[])

        then:
        alone.code == 0
        workers*.code.every { it == 0 }
        rows(many)*.line == rows(one)*.line
        same(rows(many), rows(one), 'logits')
        rows(many)*.label == rows(one)*.label
        parts(many).isEmpty()

        and: 'only rank 0 reports, with every line counted'
        workers[0].out.toString() == alone.out.toString().replace(one.toString(), many.toString())
        workers.drop(1).every { it.out.toString().isEmpty() }

        where:
        n << [2, 3, 13]
    }

    def "embed by #n workers writes the vectors one process writes, in input order"() {
        given:
        Path one = dir.resolve("embed-1-${n}.jsonl")
        Path many = dir.resolve("embed-${n}.jsonl")
        List<String> args = ['embed', '--model', HF.resolve('bert-base/model').toString(), '--input', input.toString(),
                             '--batch-size', '4']

        when:
        Cli alone = Cli.run((args + ['--out', one.toString()]) as String[])
        List<Cli> workers = Cli.workers(n, (args + ['--out', many.toString()]) as String[])

        then:
        alone.code == 0
        workers*.code.every { it == 0 }
        rows(many)*.line == rows(one)*.line
        rows(many)*.id == rows(one)*.id
        same(rows(many), rows(one), 'embedding')
        parts(many).isEmpty()
        workers[0].out.toString() == alone.out.toString().replace(one.toString(), many.toString())

        where:
        n << [2, 4]
    }

    def "perplexity by #n workers writes the per-line rows and prints the corpus figures one process prints"() {
        given:
        Path one = dir.resolve("ppl-1-${n}.jsonl")
        Path many = dir.resolve("ppl-${n}.jsonl")
        List<String> args = ['perplexity', '--model', decoder.toString(), '--input', text.toString()]

        when:
        Cli alone = Cli.run((args + ['--out', one.toString()]) as String[])
        List<Cli> workers = Cli.workers(n, (args + ['--out', many.toString()]) as String[])
        List<Map> single = rows(one)

        then: 'the one-token last line is not scored in either'
        alone.code == 0
        workers*.code.every { it == 0 }
        single[-1].nll == null
        rows(many)*.line == single*.line
        rows(many)*.tokens == single*.tokens
        same(rows(many), single, 'nll')
        parts(many).isEmpty()

        and: 'the corpus line (mean nll to 6 digits) is the same, from rank 0 only'
        workers[0].out.toString() == alone.out.toString().replace(one.toString(), many.toString())
        workers.drop(1).every { it.out.toString().isEmpty() }

        where:
        n << [2, 3]
    }

    def "perplexity by several workers without --out exits 2 and says why"() {
        when:
        List<Cli> workers = Cli.workers(2, 'perplexity', '--model', decoder.toString(), '--input', text.toString())

        then:
        workers*.code == [2, 2]
        workers[0].err.toString().contains('perplexity with WORLD_SIZE 2 needs --out FILE')
    }
}
