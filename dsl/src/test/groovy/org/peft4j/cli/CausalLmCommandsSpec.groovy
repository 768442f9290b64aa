package org.peft4j.cli

import ai.djl.ndarray.NDManager
import groovy.json.JsonSlurper
import org.peft4j.data.CausalLmTokenizer
import org.peft4j.models.Registry
import org.peft4j.models.core.DecoderForCausalLM
import org.peft4j.models.core.Task
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** generate and perplexity on tiny random Llamas the spec writes as Hugging Face directories (well under a second each). */
class CausalLmCommandsSpec extends Specification {

    @Shared @TempDir
    Path dir

    @Shared Path model
    @Shared Path uniform

    def setupSpec() {
        model = TinyCausalLmDir.write(dir.resolve('tiny'), 5)
        uniform = TinyCausalLmDir.write(dir.resolve('uniform'), 6, true)
    }

    /** Greedy decoding the slow, obvious way: a full forward per step, argmax of the last position. */
    private String greedyByHand(String prompt, int n) {
        DecoderForCausalLM lm = ((DecoderForCausalLM) Registry.load(model, Task.CAUSAL_LM))
        NDManager m = Backend.get().manager()
        CausalLmTokenizer tok = CausalLmTokenizer.load(model)
        try {
            List<Integer> seq = tok.encode(prompt) as List<Integer>
            int start = seq.size()
            n.times {
                try (StepScope s = new StepScope()) {
                    def logits = lm.forward(m.create([seq as long[]] as long[][]), null)
                    seq << (int) logits.get(0, seq.size() - 1).argMax().getLong()
                }
            }
            return tok.decodeText(seq.drop(start) as int[])
        } finally {
            tok.close()
        }
    }

    def "#command --help exits 0 and shows an example"() {
        when:
        Cli c = Cli.run(command, '--help')

        then:
        c.code == 0
        c.out.toString().contains('Examples:')
        c.out.toString().contains(example)
        c.out.toString().contains('Exit codes: 0')

        where:
        command          | example
        'generate'       | 'peft4j generate --model ~/models/TinyLlama-1.1B --prompt "The capital of France is" --max-new-tokens 16'
        'perplexity'     | 'peft4j perplexity --model ~/models/gpt2 --input wiki.txt --out wiki-ppl.jsonl'
        'embed'          | 'peft4j embed --model minilm --input docs.jsonl --out docs-vectors.jsonl'
        'eval-retrieval' | 'peft4j eval-retrieval --model minilm --queries queries.jsonl --corpus corpus.jsonl'
    }

    def "the top-level help lists generate, perplexity, embed and eval-retrieval"() {
        expect:
        ['generate', 'perplexity', 'embed', 'eval-retrieval'].every { Cli.run('--help').out.toString().contains(it) }
    }

    def "generate prints the greedy continuation, the argmax of a full forward at every step, and tokens/s"() {
        when:
        Cli c = Cli.run('generate', '--model', model.toString(), '--prompt', 'hello world', '--max-new-tokens', '8')
        Cli uncached = Cli.run('generate', '--model', model.toString(), '--prompt', 'hello world', '--max-new-tokens', '8', '--no-cache')

        then:
        c.code == 0
        c.out.toString() == greedyByHand('hello world', 8) + '\n'
        c.err.toString() =~ /^8 new tokens in [\d.]+ s, [\d.]+ tokens\/s, first token after [\d.]+ s, KV cache on \(stop: max new tokens\)/
        uncached.code == 0
        uncached.out.toString() == c.out.toString()
        uncached.err.toString() =~ /KV cache off \(stop: max new tokens\)/
    }

    def "sampling with a seed repeats, and a stop string cuts the text before it"() {
        given:
        List<String> sampled = ['generate', '--model', model.toString(), '--prompt', 'the', '--max-new-tokens', '12',
                                '--temperature', '1.5', '--top-p', '0.9', '--seed', '3']
        String greedy = greedyByHand('the', 12)
        String stop = greedy.substring(3, 5)

        when:
        Cli a = Cli.run(sampled as String[])
        Cli b = Cli.run(sampled as String[])
        Cli stopped = Cli.run('generate', '--model', model.toString(), '--prompt', 'the', '--max-new-tokens', '12', '--stop', stop)

        then:
        a.code == 0
        a.out.toString() == b.out.toString()
        stopped.code == 0
        stopped.out.toString() == greedy.substring(0, greedy.indexOf(stop)) + '\n'
        stopped.err.toString().contains('(stop: stop string)')
    }

    def "perplexity of an all-zero lm_head is ln V per scored token, and a one-token line is not scored"() {
        given:
        Path text = Files.writeString(dir.resolve('lines.txt'), 'abc\n\nhello world.\na\n')
        Path out = dir.resolve('ppl.jsonl')

        when:
        Cli c = Cli.run('perplexity', '--model', uniform.toString(), '--input', text.toString(), '--out', out.toString())

        then:
        c.err.toString() == ''
        c.code == 0

        when:
        List<Map> rows = Files.readAllLines(out).collect { new JsonSlurper().parseText(it) as Map }

        then:
        rows*.line == [1, 3, 4]
        rows*.tokens == [3, 12, 1]
        Math.abs((rows[0].nll as double) - Math.log(TinyCausalLmDir.VOCAB)) < 1e-9
        Math.abs((rows[1].nll as double) - Math.log(TinyCausalLmDir.VOCAB)) < 1e-9
        Math.abs((rows[0].ppl as double) - TinyCausalLmDir.VOCAB) < 1e-6
        rows[2].nll == null && rows[2].ppl == null
        c.out.toString().trim() == String.format(Locale.ROOT,
                'corpus: 3 lines, 13 scored tokens, mean nll %.6f, perplexity %.4f (per line: %s)',
                Math.log(TinyCausalLmDir.VOCAB), (double) TinyCausalLmDir.VOCAB, out)
    }

    def "perplexity reads a JSONL text field, and the corpus mean weights each line by its scored tokens"() {
        given:
        Path jsonl = Files.writeString(dir.resolve('lines.jsonl'), '{"text": "a cat"}\n{"text": "the quick brown fox."}\n')

        when:
        Cli c = Cli.run('perplexity', '--model', model.toString(), '--input', jsonl.toString())

        then:
        c.err.toString() == ''
        c.code == 0

        when:
        List<String> lines = c.out.toString().readLines()
        List<Map> rows = lines.take(2).collect { new JsonSlurper().parseText(it) as Map }

        then:
        rows*.tokens == [5, 20]
        rows.every { Math.abs(Math.exp(it.nll as double) - (it.ppl as double)) < 1e-9 * (it.ppl as double) }
        double mean = ((rows[0].nll as double) * 4 + (rows[1].nll as double) * 19) / 23
        lines[2] == String.format(Locale.ROOT, 'corpus: 2 lines, 23 scored tokens, mean nll %.6f, perplexity %.4f', mean, Math.exp(mean))
    }

    def "#args exits 2 with a clear message and no stack trace"() {
        given:
        Path encoder = dir.resolve('bert-like')
        encoder.toFile().mkdirs()
        Files.writeString(encoder.resolve('config.json'), '{"model_type": "bert"}')

        when:
        Cli c = Cli.run(args.collect { it.replace('TINY', model.toString()).replace('BERT', encoder.toString()) } as String[])

        then:
        c.err.toString().contains(text.replace('BERT', encoder.toString()))
        !c.err.toString().contains('\tat ')
        c.code == 2

        where:
        args                                                                         | text
        ['generate', '--model', '/no/such/model', '--prompt', 'hi']                  | '/no/such/model: no such model directory'
        ['generate', '--model', 'TINY', '--adapter', '/no/adapter', '--prompt', 'x'] | '/no/adapter: no such adapter directory'
        ['generate', '--model', 'BERT', '--prompt', 'hi']                            | "BERT/config.json: model_type = 'bert' is not a causal language model peft4j loads"
        ['generate', '--model', 'TINY', '--prompt', 'hi', '--top-p', '0']            | 'generate.topP = 0.0 must be in (0, 1]'
        ['generate', '--model', 'TINY']                                              | "Missing required option: '--prompt=TEXT'"
        ['perplexity', '--model', 'TINY', '--input', '/no/such.txt']                 | '/no/such.txt: no such input file'
        ['perplexity', '--model', '/no/such/model', '--input', 'pom.xml']            | '/no/such/model: no such model directory'
        ['embed', '--model', 'minilm', '--input', '/no/in.jsonl', '--out', '/tmp/o'] | '/no/in.jsonl: no such input file'
        ['embed', '--model', 'minilm', '--input', 'pom.xml', '--out', '/tmp/o', '--pooling', 'max'] | "--pooling 'max' is not a pooling mode; valid: mean, cls"
        ['eval-retrieval', '--model', 'minilm', '--queries', '/no/q.jsonl', '--corpus', 'pom.xml'] | '/no/q.jsonl: no such queries file'
        ['eval-retrieval', '--model', 'minilm', '--queries', 'pom.xml', '--corpus', '/no/c.jsonl'] | '/no/c.jsonl: no such corpus file'
    }
}
