package org.peft4j.cli

import groovy.json.JsonSlurper
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** inspect, merge, predict and bench on the embedded MiniLM, with one tiny real fine-tune (about 10 s) shared below. */
class CommandsSpec extends Specification {

    @Shared @TempDir
    Path dir

    @Shared Path adapter
    @Shared Path mail

    def setupSpec() {
        List<String> spam = Files.readAllLines(Path.of('../recipes/data/spam/train.jsonl'))
        Files.write(dir.resolve('train.jsonl'), spam.take(32))
        mail = Files.write(dir.resolve('mail.jsonl'), spam.drop(32).take(6))
        Path recipe = Files.writeString(dir.resolve('tiny.groovy'), '''\
model { source 'minilm'; task classification(labels: ['ham', 'spam']) }
lora { r 2; alpha 4; target 'query', 'value'; modulesToSave 'classifier' }
data { train jsonl('train.jsonl'); maxLength 32 }
optimizer adamW(lr: 1e-2)
train { batchSize 8; maxSteps 2; seed 3 }
''')
        Cli run = Cli.run('run', recipe.toString(), '--out', dir.resolve('run').toString(), '--quiet', '--no-eval-before')
        assert run.code == 0: run.err.toString()
        adapter = dir.resolve('run/adapter')
    }

    private static List<Map> rows(Path jsonl) {
        Files.readAllLines(jsonl).collect { new JsonSlurper().parseText(it) as Map }
    }

    def "inspect minilm lists every module with its kind, shape and parameters"() {
        when:
        Cli c = Cli.run('inspect', 'minilm')

        then:
        c.code == 0
        List<String> lines = c.out.toString().readLines()
        lines[0] ==~ /module\s+kind\s+weight\s+parameters/
        lines.any { it ==~ /bert\.encoder\.layer\.0\.attention\.self\.query\s+Linear\s+\[384, 384\]\s+147,840/ }
        !lines.any { it.contains('<- lora target') }
    }

    def "inspect minilm --recipe quickstart marks the 12 query and value projections its lora block targets, under the recipe's head"() {
        when:
        Cli c = Cli.run('inspect', 'minilm', '--recipe', '../recipes/quickstart.groovy')

        then:
        c.code == 0
        List<String> targets = c.out.toString().readLines().findAll { it.endsWith('<- lora target') }
        targets.size() == 12
        targets.every { it =~ /^bert\.encoder\.layer\.\d+\.attention\.self\.(query|value) / }
        // head 'transformers' builds BERT's pooler, which MiniLM lacks: the recipe saves it with the classifier
        c.out.toString().contains('LoRA adapts 12 modules and saves 2')
        c.out.toString().readLines().any { it ==~ /bert\.pooler\.dense\s+Linear\s+\[384, 384\]\s+147,840.*/ }
    }

    def "merge writes a model whose predictions equal the base model with the adapter"() {
        given:
        Path merged = dir.resolve('merged')
        Path viaAdapter = dir.resolve('adapter-predictions.jsonl')
        Path viaMerged = dir.resolve('merged-predictions.jsonl')

        when:
        Cli m = Cli.run('merge', '--model', 'minilm', '--adapter', adapter.toString(), '--out', merged.toString(), '--labels', 'ham,spam')
        Cli p1 = Cli.run('predict', '--model', 'minilm', '--adapter', adapter.toString(), '--labels', 'ham,spam',
                '--input', mail.toString(), '--out', viaAdapter.toString(), '--max-length', '32', '--batch-size', '4')
        Cli p2 = Cli.run('predict', '--model', merged.toString(), '--input', mail.toString(), '--out', viaMerged.toString(),
                '--max-length', '32', '--batch-size', '4')

        then:
        [m, p1, p2]*.code == [0, 0, 0]
        Files.exists(merged.resolve('model.safetensors'))
        p2.out.toString().trim() == "classified 6 lines of ${mail} into ${viaMerged} (labels ham, spam)"
        List<Map> a = rows(viaAdapter)
        List<Map> b = rows(viaMerged)
        a.size() == 6
        a*.line == (1..6).toList()
        a*.label == b*.label
        // W + B·A·alpha/r folded into one matrix rounds differently from x·W + (x·A)·B; float32 noise only
        [a, b].transpose().every { Map x, Map y ->
            [x.logits, y.logits].transpose().every { u, v -> Math.abs((u as double) - (v as double)) < 1e-4 }
        }
    }

    def "merge into a directory that already holds a model is refused with exit 2 before anything loads"() {
        given:
        Path used = Files.createDirectories(dir.resolve('used'))
        Files.writeString(used.resolve('model.safetensors'), 'x')

        when:
        Cli again = Cli.run('merge', '--model', 'minilm', '--adapter', adapter.toString(), '--out', used.toString())

        then:
        again.code == 2
        again.err.toString().trim() == "${used}: already exists and is not empty; choose another --out"
    }

    def "bench runs a tiny case list and writes JSON with every case"() {
        given:
        Path json = dir.resolve('bench/results.json')

        when:
        Cli c = Cli.run('bench', '--batch', '2', '--seq', '16', '--warmup', '1', '--repeats', '2', '--json', json.toString())

        then:
        c.code == 0
        c.out.toString().contains('batch 2 x 16 tokens; 1 warm-up + 2 interleaved rounds')
        c.out.toString() =~ /(?m)^lora-merged\s+inference/
        c.out.toString().contains('adalora_step_over_lora_step')
        c.out.toString().contains('lora_checkpointed_peak_rss_over_full')
        c.out.toString().contains("wrote ${json}")
        Map results = new JsonSlurper().parse(json.toFile()) as Map
        results.cases*.name == ['lora', 'lora-checkpointed', 'adalora', 'full', 'base', 'lora-unmerged', 'lora-merged']
        results.batch == 2
        results.seq_len == 16
        // peak memory of every case, training and inference, measured in a child JVM of its own
        results.cases.every { it.child_peak_rss_bytes > it.child_start_rss_bytes }
        c.out.toString().contains('merged_peak_rss_over_base')
    }
}
