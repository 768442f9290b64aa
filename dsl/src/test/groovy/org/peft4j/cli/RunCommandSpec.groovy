package org.peft4j.cli

import groovy.json.JsonSlurper
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** Two tiny real fine-tunes of the embedded MiniLM (about 10 s each), shared by every feature below. */
class RunCommandSpec extends Specification {

    static final List<String> TINY = ['--set', 'data.limit=32', '--set', 'train.maxSteps=3', '--set', 'data.maxLength=32']

    @Shared @TempDir
    Path dir

    @Shared Path first
    @Shared Path rerun
    @Shared Cli firstRun
    @Shared Cli secondRun

    def setupSpec() {
        Path spam = Path.of('../recipes/data/spam/train.jsonl')
        Files.createDirectories(dir.resolve('recipes/data'))
        Files.write(dir.resolve('recipes/data/train.jsonl'), Files.readAllLines(spam).take(64))
        Files.writeString(dir.resolve('recipes/base.groovy'), '''\
params { lr 1e-3 }
model { source 'minilm'; task classification(labels: ['ham', 'spam']) }
lora { r 4; alpha 8; dropout 0.1; target 'query', 'value'; modulesToSave 'classifier' }
data { train jsonl('data/train.jsonl') }
optimizer adamW(lr: params.lr)
train { batchSize 8; seed 7 }
''')
        Files.writeString(dir.resolve('recipes/tiny.groovy'), "from 'base.groovy'\nrecipe 'tiny'\nlora { r 2 }\n")
        first = dir.resolve('runs/tiny')
        firstRun = Cli.run(*(['run', dir.resolve('recipes/tiny.groovy').toString(), '--out', first.toString(), '--quiet',
                              '--set', 'params.lr=2e-3'] + TINY))
        secondRun = Cli.run('run', first.toString(), '--quiet')
        rerun = Files.list(dir.resolve('runs')).find { it.fileName.toString().startsWith('tiny-rerun-') }
    }

    private static List<Double> losses(Path run) {
        Files.readAllLines(run.resolve('metrics.jsonl')).collect { new JsonSlurper().parseText(it) as Map }
                .findAll { it.type == 'train' }.collect { it.loss as Double }
    }

    def "a run exits 0 and writes summary, metrics and its log"() {
        expect:
        firstRun.code == 0
        Files.exists(first.resolve('summary.json'))
        Files.readString(first.resolve('run.log')).contains('step 3/3')
        firstRun.out.toString().contains('run directory')
        !firstRun.out.toString().contains('» loading')
    }

    def "the run directory holds the recipe, its includes, overrides, seeds and SHA-256 of data and base weights"() {
        given:
        Map config = new JsonSlurper().parse(first.resolve('config.json').toFile()) as Map
        Map record = new JsonSlurper().parse(first.resolve('recipe.json').toFile()) as Map

        expect:
        Files.exists(first.resolve('tiny.groovy'))
        Files.readString(first.resolve('includes/1-base.groovy')).contains("params { lr 1e-3 }")
        record.overrides['params.lr'] == '2e-3'
        record.overrides['train.maxSteps'] == '3'
        config.seeds == [train: 7, classifier_init: 7, lora_init: 8, data_order: 7]
        config.sha256['model.safetensors'] ==~ /[0-9a-f]{64}/
        config.sha256.data.values().every { it ==~ /[0-9a-f]{64}/ }
        config.environment.engine.startsWith('PyTorch')
        config.optimizer.lr == 2e-3d
    }

    def "running the run directory again repeats it into a new directory with bit-identical losses on CPU"() {
        expect:
        secondRun.code == 0
        rerun != null
        losses(first).size() == 3
        losses(rerun) == losses(first)
        (new JsonSlurper().parse(rerun.resolve('recipe.json').toFile()) as Map).rerun_of == first.toString()
    }

    def "a second run into the same directory is refused with exit 1, not overwritten"() {
        when:
        Cli again = Cli.run(*(['run', dir.resolve('recipes/tiny.groovy').toString(), '--out', first.toString()] + TINY))

        then:
        again.code == 1
        again.err.toString().contains('already holds a run')
    }

    def "a run's printed output and run.log carry no ANSI escapes off a terminal"() {
        expect:
        !firstRun.out.toString().contains('\u001b')
        !firstRun.err.toString().contains('\u001b')
        !Files.readString(first.resolve('run.log')).contains('\u001b')
    }

    def "the adapter carries the class names, and predict and merge use them without --labels; merge prints its check"() {
        given:
        Path input = Files.write(dir.resolve('mail.jsonl'), ['{"text": "WINNER!! Claim your prize"}', '{"text": "Lunch at noon?"}'])
        Path predictions = dir.resolve('predictions.jsonl')
        Path merged = dir.resolve('merged')

        when:
        Cli predict = Cli.run('predict', '--model', 'minilm', '--adapter', first.resolve('adapter').toString(),
                '--input', input.toString(), '--out', predictions.toString(), '--max-length', '32')
        Cli merge = Cli.run('merge', '--model', 'minilm', '--adapter', first.resolve('adapter').toString(), '--out', merged.toString())
        Map config = new JsonSlurper().parse(merged.resolve('config.json').toFile()) as Map

        then:
        Files.exists(first.resolve('adapter/head_config.json'))
        predict.code == 0
        predict.out.toString().contains('(labels ham, spam)')
        Files.readAllLines(predictions).every { (new JsonSlurper().parseText(it) as Map).label in ['ham', 'spam'] }

        and: 'the merged config names the classes, and the merged logits were compared with base + adapter'
        merge.code == 0
        config.id2label == ['0': 'ham', '1': 'spam']
        config.label2id == [ham: 0, spam: 1]
        merge.out.toString().contains('(labels ham, spam)')
        (merge.out.toString() =~ /merged − unmerged: largest output difference (\S+) \(largest \|logit\| \S+, 4 inputs\)/).find()
        Double.parseDouble((merge.out.toString() =~ /largest output difference (\S+) /)[0][1] as String) < 1e-5
    }

    def "--preflight trains one step, saves, reloads and merges the adapter, prints each difference and writes no run directory"() {
        when:
        Cli p = Cli.run(*(['run', dir.resolve('recipes/tiny.groovy').toString(), '--preflight', '--quiet'] + TINY))
        String text = p.out.toString()

        then:
        p.code == 0
        text.contains('pre-flight of tiny: 1 optimizer step (loss ')
        text.contains('trained − untrained: largest output difference ')
        text.contains('reloaded − trained:  largest output difference 0.00e+00')
        text.contains('merged − unmerged:   largest output difference ')
        text.contains('passed: both within 1e-04 × max(1, largest |logit|)')
        !Files.list(dir.resolve('runs')).withCloseable { s -> s.anyMatch { it.fileName.toString().startsWith('tiny-2') } }
    }
}
