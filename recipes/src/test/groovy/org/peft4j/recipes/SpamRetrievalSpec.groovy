package org.peft4j.recipes

import groovy.json.JsonSlurper
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir
import spock.lang.Unroll

import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.nio.file.Path

/**
 * The two sentence-embedding recipes, shortened (64 training examples, 2 steps, 40 held-out queries over their 40
 * bodies, 32 tokens): what the run directory holds, and that the metrics it reports are those of the base model
 * before and of the saved adapter after. The check ranks the corpus itself from vectors that {@code peft4j embed}
 * wrote and computes MRR@10 and recall@1 by their definitions, apart from the evaluator the run used.
 */
class SpamRetrievalSpec extends Specification {

    static final int N = 40

    @Shared @TempDir
    Path tmp

    /** The first N queries and the first N bodies: make_pairs.py writes query i and its relevant body i on line i. */
    @Shared Path queries
    @Shared Path corpus

    def setupSpec() {
        Path data = Path.of('data/spam-retrieval')
        queries = Files.write(tmp.resolve('queries.jsonl'), Files.readAllLines(data.resolve('eval-queries.jsonl')).take(N))
        corpus = Files.write(tmp.resolve('corpus.jsonl'), Files.readAllLines(data.resolve('eval-corpus.jsonl')).take(N))
    }

    @Unroll
    def "#recipe runs shortened: before is the base model's retrieval, after is its saved adapter's, and the adapter is PEFT's FEATURE_EXTRACTION layout"() {
        given:
        Path out = tmp.resolve(recipe.replaceAll(/\W/, '_'))
        List<String> shortened = ['--set', 'data.limit=64', '--set', 'train.maxSteps=2', '--set', 'train.batchSize=8',
                                  '--set', 'data.maxLength=32', '--set', "data.queries=${queries}".toString(),
                                  '--set', "data.corpus=${corpus}".toString(), '--quiet']

        when:
        Peft4j run = Peft4j.run(['run', recipe, '--out', out.toString()] + shortened)
        Map summary = json(out.resolve('summary.json'))

        then: 'the run wrote its directory and printed the retrieval table'
        run.err.toString() == ''
        run.code == 0
        ['run.log', 'config.json', 'recipe.json', 'metrics.jsonl', Path.of(recipe).fileName.toString()].every { Files.exists(out.resolve(it)) }
        run.out.toString().contains('retrieval mrr@10')
        run.out.toString().contains('retrieval recall@1 ')
        summary.task == 'embedding'
        summary.loss == loss
        summary.steps == 2
        Files.readAllLines(out.resolve('metrics.jsonl')).count { it.contains('"type":"train"') } == 2

        and: 'every retrieval metric, before and after, is a number in [0, 1]'
        ['before', 'after'].every { String when ->
            Map m = summary[when].retrieval as Map
            ['mrr@10', 'recall@1', 'recall@5', 'recall@10', 'ndcg@10'].every { k -> m[k] instanceof Number && m[k] >= 0 && m[k] <= 1 }
        }

        and: 'the adapter holds lora_A [8, 384] and lora_B [384, 8] for query, key and value of all 6 layers'
        Map config = json(out.resolve('adapter/adapter_config.json'))
        config.task_type == 'FEATURE_EXTRACTION'
        config.peft_type == 'LORA'
        (config.target_modules as List).toSorted() == ['key', 'query', 'value']
        Map<String, Map> tensors = safetensorsHeader(out.resolve('adapter/adapter_model.safetensors'))
        tensors.keySet() == ((0..5).collectMany { int l ->
            ['query', 'key', 'value'].collectMany { String m ->
                ['A', 'B'].collect { "base_model.model.encoder.layer.${l}.attention.self.${m}.lora_${it}.weight".toString() }
            }
        } as Set)
        tensors.findAll { k, v -> k.endsWith('lora_A.weight') }.every { k, v -> v.shape == [8, 384] }
        tensors.findAll { k, v -> k.endsWith('lora_B.weight') }.every { k, v -> v.shape == [384, 8] }

        when: 'the base model and the saved adapter embed the same texts, and the corpus is ranked here'
        Map before = rankedHere(null, out.resolve('base'))
        Map after = rankedHere(out.resolve('adapter'), out.resolve('tuned'))

        then:
        Math.abs(before.mrr - (summary.before.retrieval['mrr@10'] as double)) < 1e-4
        Math.abs(before.r1 - (summary.before.retrieval['recall@1'] as double)) < 1e-9
        Math.abs(after.mrr - (summary.after.retrieval['mrr@10'] as double)) < 1e-4
        Math.abs(after.r1 - (summary.after.retrieval['recall@1'] as double)) < 1e-9

        when: 'peft4j eval of the run directory: its recipe copy, overrides and adapter'
        Peft4j eval = Peft4j.run(['eval', out.toString(), '--quiet'])

        then:
        eval.code == 0
        eval.out.toString().contains("with adapter ${out.resolve('adapter')}")
        eval.out.toString().contains(String.format(Locale.ROOT, 'retrieval mrr@10     %8.4f', summary.after.retrieval['mrr@10'] as double))
        eval.out.toString().contains(String.format(Locale.ROOT, 'retrieval recall@1   %8.4f', summary.after.retrieval['recall@1'] as double))

        where:
        recipe                                      | loss
        'embedding/spam-retrieval-lora.groovy'      | 'INFONCE'
        'embedding/spam-retrieval-simcse.groovy'    | 'SIMCSE'
    }

    def "check prints the embedding plan: 18 adapted modules, the training data and the objective"() {
        when:
        Peft4j p = Peft4j.run(['check', 'embedding/spam-retrieval-lora.groovy', '--quiet'])
        String text = p.out.toString()

        then:
        p.code == 0
        text.contains('adapted    18 modules')
        text =~ /(?m)^data +split +examples /
        text =~ /(?m)^ +train +1000 /
        text =~ /(?m)^ +queries +400 /
        text =~ /(?m)^ +corpus +400 /
        text.contains('objective  infonce, temperature 0.05')
    }

    def "eval refuses a classification recipe with exit code 2 and says what it evaluates"() {
        when:
        Peft4j p = Peft4j.run(['eval', 'quickstart.groovy'])

        then:
        p.code == 2
        p.err.toString().contains('eval evaluates embedding recipes')
    }

    /**
     * MRR@10 and recall@1 by definition, from vectors {@code peft4j embed} wrote: the relevant body of query i is body i,
     * its rank is 1 + the number of bodies with a higher cosine; reciprocal rank counts when the rank is at most 10.
     */
    private Map rankedHere(Path adapter, Path dir) {
        Files.createDirectories(dir)
        List<List<Double>> q = embed(queries, adapter, dir.resolve('q.jsonl'))
        List<List<Double>> d = embed(corpus, adapter, dir.resolve('d.jsonl'))
        double mrr = 0
        int top1 = 0
        for (int i = 0; i < N; i++) {
            double own = dot(q[i], d[i])
            int rank = 1 + (0..<N).count { int j -> j != i && dot(q[i], d[j]) > own }
            mrr += rank <= 10 ? 1d / rank : 0
            top1 += rank == 1 ? 1 : 0
        }
        [mrr: mrr / N, r1: top1 / (double) N]
    }

    private static List<List<Double>> embed(Path input, Path adapter, Path out) {
        List<String> args = ['embed', '--model', 'minilm', '--input', input.toString(), '--out', out.toString(), '--max-length', '32']
        if (adapter != null) {
            args += ['--adapter', adapter.toString()]
        }
        Peft4j p = Peft4j.run(args)
        assert p.code == 0: p.err.toString()
        Files.readAllLines(out).collect { ((new JsonSlurper().parseText(it) as Map).embedding as List).collect { it as double } }
    }

    private static double dot(List<Double> a, List<Double> b) {
        double s = 0
        for (int i = 0; i < a.size(); i++) {
            s += a[i] * b[i]
        }
        s
    }

    private static Map json(Path file) {
        new JsonSlurper().parse(file.toFile()) as Map
    }

    /** The tensor table of a safetensors file: 8 bytes little-endian header length, then the JSON header. */
    private static Map<String, Map> safetensorsHeader(Path file) {
        byte[] bytes = Files.readAllBytes(file)
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong()
        Map header = new JsonSlurper().parseText(new String(bytes, 8, (int) n, StandardCharsets.UTF_8)) as Map
        header.findAll { k, v -> k != '__metadata__' } as Map<String, Map>
    }
}
