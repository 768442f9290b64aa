package org.peft4j.cli

import groovy.json.JsonSlurper
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** embed and eval-retrieval on the embedded MiniLM (its cached import; a few seconds). */
class EmbeddingCommandsSpec extends Specification {

    @Shared @TempDir
    Path dir

    def "embed writes one unit vector of 384 numbers per line of a 3-line file, with the line number and id"() {
        given:
        Path input = Files.writeString(dir.resolve('docs.jsonl'), '''\
{"id": "a", "text": "The cat sits on the mat."}
{"id": "b", "text": "Stock markets fell sharply today."}

{"id": "c", "text": "A kitten is resting on a rug."}
''')
        Path out = dir.resolve('vectors.jsonl')

        when:
        Cli c = Cli.run('embed', '--model', 'minilm', '--input', input.toString(), '--out', out.toString())

        then:
        c.code == 0
        c.out.toString().trim() == "embedded 3 texts of ${input} into ${out} (384 dimensions, mean pooling)"

        when:
        List<Map> rows = Files.readAllLines(out).collect { new JsonSlurper().parseText(it) as Map }
        List<Double> norms = rows.collect { Math.sqrt(dot(it.embedding as List, it.embedding as List)) }

        then:
        rows*.line == [1, 2, 4]
        rows*.id == ['a', 'b', 'c']
        rows.every { (it.embedding as List).size() == 384 }
        norms.every { Math.abs(it - 1) < 1e-5 }
        // the two sentences about a cat on a mat are closer to each other than to the market news
        dot(rows[0].embedding as List, rows[2].embedding as List) > dot(rows[0].embedding as List, rows[1].embedding as List)
    }

    private static double dot(List<Number> a, List<Number> b) {
        double s = 0
        for (int i = 0; i < a.size(); i++) {
            s += a[i].doubleValue() * b[i].doubleValue()
        }
        s
    }

    def "embed with PEFT's all-linear adapter, which adapts BERT's pooler, notes that mean pooling does not use it"() {
        given: 'a tiny BERT and the adapter PEFT 0.21 saved for it (runtime hf/ fixtures)'
        Path hf = Path.of('../runtime/src/test/resources/hf')
        Path input = Files.writeString(dir.resolve('pooler-docs.jsonl'), '{"text": "a b c"}\n')
        Path out = dir.resolve('pooler-vectors.jsonl')

        when:
        Cli c = Cli.run('embed', '--model', hf.resolve('bert-base/model').toString(), '--adapter',
                hf.resolve('lora-bert-embedding/adapter').toString(), '--input', input.toString(), '--out', out.toString())

        then:
        c.code == 0
        c.err.toString().contains('adapts pooler.dense, which mean pooling does not use: those tensors are loaded but do not change the embeddings')
        Files.readAllLines(out).size() == 1
    }

    def "eval-retrieval finds every exact-duplicate document first: recall@1 = MRR@10 = nDCG@10 = 1"() {
        given:
        Path corpus = Files.writeString(dir.resolve('corpus.jsonl'), '''\
{"id": "d1", "text": "How do I reset my password?"}
{"id": "d2", "text": "The train to Berlin leaves at noon."}
{"id": "d3", "text": "Bananas are rich in potassium."}
{"id": "d4", "text": "Our office is closed on public holidays."}
''')
        Path queries = Files.writeString(dir.resolve('queries.jsonl'), '''\
{"id": "q1", "text": "Bananas are rich in potassium.", "relevant": ["d3"]}
{"id": "q2", "text": "How do I reset my password?", "relevant": ["d1"]}
{"id": "q3", "text": "The train to Berlin leaves at noon.", "relevant": {"d2": 1}}
''')
        Path json = dir.resolve('metrics.json')

        when:
        Cli c = Cli.run('eval-retrieval', '--model', 'minilm', '--queries', queries.toString(), '--corpus', corpus.toString(),
                '--json', json.toString())

        then:
        c.code == 0
        List<String> lines = c.out.toString().readLines()
        lines[0] == '3 queries, 4 documents'
        lines[1] ==~ /metric\s+value/
        lines.subList(2, 7).collect { it.split(/\s+/)[0] } == ['recall@1', 'recall@5', 'recall@10', 'mrr@10', 'ndcg@10']
        lines.subList(2, 7).every { it.endsWith('1.0000') }
        Map m = new JsonSlurper().parse(json.toFile()) as Map
        m['recall@1'] == 1.0 && m['mrr@10'] == 1.0 && m['ndcg@10'] == 1.0 && m.queries == 3 && m.documents == 4
    }

    def "eval-retrieval names the query line whose relevant document is not in the corpus, exit 2"() {
        given:
        Path corpus = Files.writeString(dir.resolve('c2.jsonl'), '{"id": "d1", "text": "x"}\n')
        Path queries = Files.writeString(dir.resolve('q2.jsonl'), '{"id": "q1", "text": "x", "relevant": ["d9"]}\n')

        when:
        Cli c = Cli.run('eval-retrieval', '--model', 'minilm', '--queries', queries.toString(), '--corpus', corpus.toString())

        then:
        c.code == 2
        c.err.toString().startsWith("${queries}:1: relevant document 'd9' is not in ${corpus}")
        !c.err.toString().contains('\tat ')
    }
}
