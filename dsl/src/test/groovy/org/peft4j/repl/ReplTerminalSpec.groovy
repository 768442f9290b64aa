package org.peft4j.repl

import groovy.json.JsonSlurper
import org.peft4j.cli.Cli
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Stepwise
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * The REPL driven through a terminal (JLine's ExternalTerminal over piped streams, see {@link ReplTerminal}), as a
 * user types: completion, printing, and train → predict → train (stopped by Ctrl-C) → train → save, whose numbers
 * are compared with {@code peft4j run} of the same recipe and step count.
 */
@Stepwise
class ReplTerminalSpec extends Specification {

    @Shared @TempDir
    Path dir
    @Shared ReplTerminal repl
    @Shared Path recipe
    @Shared Path viaRun
    @Shared Path viaRepl

    def setupSpec() {
        List<String> spam = Files.readAllLines(Path.of('../recipes/data/spam/train.jsonl'))
        Files.createDirectories(dir.resolve('data'))
        // 48 examples in batches of 8: a plan of 6 steps
        Files.write(dir.resolve('data/train.jsonl'), spam.take(48))
        Files.write(dir.resolve('data/valid.jsonl'), spam.drop(48).take(16))
        recipe = dir.resolve('tiny.groovy')
        Files.writeString(recipe, '''\
recipe 'tiny'
model { source 'minilm'; task classification(labels: ['ham', 'spam']) }
lora { r 2; alpha 8; dropout 0.1; target 'query', 'value'; modulesToSave 'classifier' }
data { train jsonl('data/train.jsonl'); valid jsonl('data/valid.jsonl'); maxLength 32 }
optimizer adamW(lr: 2e-3)
train { batchSize 8; seed 7; epochs 1 }
''')
        viaRun = dir.resolve('runs/cli')
        viaRepl = dir.resolve('runs/repl')
        repl = new ReplTerminal(dir.resolve('history'))
        repl.waitUntil(60) { repl.screen().contains('peft4j> ') }
    }

    def cleanupSpec() {
        repl?.close()
    }

    private static List<Double> losses(Path run) {
        Files.readAllLines(run.resolve('metrics.jsonl')).collect { new JsonSlurper().parseText(it) as Map }
                .findAll { it.type == 'train' }.collect { it.loss as Double }
    }

    def "a recipe loads with its file path completed, and set takes --set's typed values with its errors"() {
        when:
        String loaded = repl.line("recipe = load '${dir}/tin\t'")
        String wrong = repl.line("recipe.set 'lora.r', 'four'")
        String set = repl.line("recipe.set 'lora.r', 4")
        String shown = repl.line('recipe')

        then:
        loaded.contains("recipe = load '${dir}/tiny.groovy'")
        wrong.contains("error: ${recipe}: --set lora.r=four: lora.r takes a whole number, not 'four'")
        set.contains('===> lora.r: 2 → 4')
        shown.contains('recipe tiny (') && shown.contains('set: lora.r=4')
        shown.contains('  lora.r = 4') && shown.contains('  train.batchSize = 8')
    }

    def "Tab completes recipe keys inside set"() {
        when:
        String keys = repl.line("recipe.set 'train.maxSt\t', 6")

        then:
        keys.contains("recipe.set 'train.maxSteps', 6")
        keys.contains('train.maxSteps: 0 → 6')
    }

    def "train opens a run and trains 2 of its 6 steps, with progress and a loss sparkline"() {
        when:
        String out = repl.line("session = train recipe, steps: 2, out: '${viaRepl}'")

        then:
        out.contains('step 2/6')
        !out.contains('step 3/6')
        out =~ /loss [▁▂▃▄▅▆▇█]{2}  \d\.\d{4} → \d\.\d{4}  \(step 2 of 6\)/
    }

    def "predict gives the label and the probability of each"() {
        when:
        String out = repl.line("predict session, 'Win a FREE cruise now!!!'")

        then:
        out =~ /===> (ham|spam)  \(ham 0\.\d{4}, spam 0\.\d{4}\)/
    }

    def "Tab completes variables and properties, and module paths inside model[...]"() {
        when:
        String variable = repl.line("sess\t.step")
        String property = repl.line("session.lo\t.size()")
        repl.line('model = session.model')
        String path = repl.line("model['bert.encoder.la\t.0.attention.self.query'].module().class.simpleName")

        then:
        variable.contains('session.step') && variable.contains('===> 2')
        property.contains('session.loss.size()') && property.contains('===> 2')
        path.contains("model['bert.encoder.layer.0.attention.self.query']") && path.contains('===> LoraLinear')
    }

    def "a model prints its module tree with Hugging Face names, shapes, adapters and the trainable count"() {
        when:
        String tree = repl.line('session.model')
        String layer = repl.line('model.bert.encoder.layer[0].attention.self')
        String weight = repl.line("model['bert.encoder.layer.0.attention.self.query.lora_A.weight']")

        then:
        tree.contains('MeanPooledClassifier')
        tree.contains('(0-5): 6 × BertLayer')
        tree.contains('(lora_A): Linear(weight [4, 384]*)')
        tree.contains('(classifier): Linear(weight [2, 384]*, bias [2]*)')
        tree.contains('trainable params: 37,634 || all params: 22,603,010 || trainable%: 0.1665')
        layer.contains('bert.encoder.layer.0.attention.self: Attention')
        layer.contains('(key): Linear(weight [384, 384], bias [384])')
        weight =~ /parameter \(trainable\) tensor \[4, 384\] float32 cpu\(\) \[-?0\.\d{4}, /
    }

    def "Ctrl-C stops a running train after the current step, and train goes on from there"() {
        when:
        repl.type('train session\n')
        repl.waitUntil(600) { repl.screen().contains('step 3/6') }
        repl.type('\u0003')
        repl.waitUntil(600) { repl.screen().contains('stopped by Ctrl-C') || repl.screen().contains('(step 6 of 6)') }
        String stopped = repl.line('session.step')
        String rest = repl.line('train session')

        then:
        (stopped =~ /===> (\d)/)[0][1].toInteger() in 3..5
        rest.contains('step 6/6')
        rest.contains('(step 6 of 6)')
    }

    def "a REPL session of train → predict → train → save gives the numbers of peft4j run with the same recipe and steps"() {
        when:
        String saved = repl.line('save session')
        String plotted = repl.line('plot session')
        Cli run = Cli.run('run', recipe.toString(), '--set', 'lora.r=4', '--set', 'train.maxSteps=6', '--out',
                viaRun.toString(), '--quiet', '--stacktrace')

        then:
        run.err.toString() == ''
        run.code == 0

        when:
        Map a = new JsonSlurper().parse(viaRun.resolve('summary.json').toFile()) as Map
        Map b = new JsonSlurper().parse(viaRepl.resolve('summary.json').toFile()) as Map

        then:
        saved.contains('valid accuracy') && saved.contains('run directory')
        losses(viaRepl).size() == 6
        losses(viaRepl) == losses(viaRun)
        b.after == a.after
        b.before == a.before
        Files.readAllBytes(viaRepl.resolve('adapter/adapter_model.safetensors')) ==
                Files.readAllBytes(viaRun.resolve('adapter/adapter_model.safetensors'))
        ['loss.png', 'lr.png', 'eval.png'].every { plotted.contains(it) && Files.size(viaRepl.resolve(it)) > 0 }
    }

    def ":save writes the lines that worked as a script, and the history persists"() {
        given:
        Path script = dir.resolve('worked.groovy')

        when:
        repl.line(":save ${script}")
        String text = Files.readString(script)

        then:
        text.contains("recipe.set 'lora.r', 4")
        !text.contains("'four'")
        text.contains('save session')
        Files.readString(dir.resolve('history')).contains('train session')
    }
}
