package org.peft4j.cli

import me.tongfei.progressbar.ProgressBarStyle
import org.peft4j.run.Summary
import org.peft4j.train.StepInfo
import picocli.CommandLine
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class MainSpec extends Specification {

    @TempDir
    Path dir

    StringWriter out = new StringWriter()
    StringWriter err = new StringWriter()

    private int execute(String... args) {
        CommandLine cl = Main.commandLine()
        cl.out = new PrintWriter(out)
        cl.err = new PrintWriter(err)
        cl.execute(args)
    }

    private Path recipe(String text) {
        Files.writeString(dir.resolve('bad.groovy'), text)
    }

    def "check with a misspelt recipe exits 2 and prints file and line, without a stack trace"() {
        given:
        Path bad = recipe("model {\n    sourc 'minilm'\n}\n")

        when:
        int code = execute('check', bad.toString())

        then:
        code == 2
        err.toString().startsWith("${bad}:2: unknown option 'sourc' in model { }; did you mean 'source'?")
        !err.toString().contains('\tat ')
        !err.toString().contains('Exception')
    }

    def "check with --stacktrace shows where the error came from"() {
        when:
        int code = execute('check', recipe("lorra {\n}\n").toString(), '--stacktrace')

        then:
        code == 2
        err.toString().contains('\tat ')
    }

    def "an unknown --set key exits 2 and lists the valid keys"() {
        given:
        Path good = recipe("model { source 'minilm'; task classification(labels: ['a', 'b']) }\n")

        when:
        int code = execute('check', good.toString(), '--set', 'train.epoch=1')

        then:
        code == 2
        err.toString().contains('--set train.epoch=1: unknown key')
        err.toString().contains('train.epochs')
    }

    def "#args is a usage matter with exit code #code"() {
        expect:
        execute(args as String[]) == code
        (out.toString() + err.toString()).contains(text)

        where:
        args                               | code | text
        ['--version']                      | 0    | 'peft4j'
        ['check', '--help']                | 0    | 'peft4j check recipes/quickstart.groovy'
        ['repl', '--help']                 | 0    | ':quit'
        ['completion', '--help']           | 0    | 'source <(peft4j completion)'
        ['completion']                     | 0    | 'complete -F'
        ['run', '--version']               | 0    | 'peft4j'
        ['run', '--help']                  | 0    | '--no-eval-before'
        ['run']                            | 2    | "Missing required parameter: 'RECIPE'"
        ['check', 'x.groovy', '--set', 'k']| 2    | 'should be in KEY=VALUE format'
        ['frobnicate']                     | 2    | 'Unmatched argument'
    }

    def "a hostile shared recipe is refused by check with file, line and construct, exit 2"() {
        given:
        Path hostile = recipe("model { source 'minilm'; task classification(labels: ['a', 'b']) }\n'rm -rf /tmp/x'.execute()\n")

        expect:
        execute('check', hostile.toString()) == 2
        err.toString().trim() == "${hostile}:2: refused: .execute(...); a recipe may only use the DSL; run with --allow-code if you trust this recipe"
    }

    def "check prints the plan, the params and an estimate of memory and time, and trains nothing"() {
        given:
        Files.writeString(dir.resolve('train.jsonl'), '{"text": "win money now", "label": "spam"}\n{"text": "see you", "label": "ham"}\n')
        Path good = Files.writeString(dir.resolve('ok.groovy'), """\
params { rank 4 }
model { source 'minilm'; task classification(labels: ['ham', 'spam']) }
lora { r params.rank; target 'query', 'value'; modulesToSave 'classifier' }
data { train jsonl('train.jsonl'); maxLength 32 }
output { dir 'runs/ok' }
""")

        when:
        int code = execute('check', good.toString(), '--set', 'params.rank=2')

        then:
        code == 0
        String text = out.toString()
        text.contains('adapted    12 modules')
        text.contains('params     rank = 2')
        text.contains("output     ${dir.resolve('runs/ok')}")
        text =~ /memory     ~\d+ MiB \(weights/
        text.contains('estimate, not measured')
        !Files.exists(dir.resolve('runs'))
    }

    def "check estimates less activation memory and more compute with activationCheckpointing"() {
        given:
        Files.writeString(dir.resolve('train.jsonl'), '{"text": "win money now", "label": "spam"}\n{"text": "see you", "label": "ham"}\n')
        Path recipe = Files.writeString(dir.resolve('ckpt.groovy'), """\
model { source 'minilm'; task classification(labels: ['ham', 'spam']) }
lora { r 4; target 'query', 'value'; modulesToSave 'classifier' }
data { train jsonl('train.jsonl'); maxLength 128 }
train { batchSize 32 }
""")
        def activations = { String text -> (text =~ /activations (\d+) MiB/)[0][1] as int }
        def flops = { String text -> (text =~ /([\d.]+e\+\d+) training/)[0][1] as double }

        when:
        execute('check', recipe.toString())
        String plain = out.toString()
        out.buffer.setLength(0)
        execute('check', recipe.toString(), '--set', 'train.activationCheckpointing=true')
        String checkpointed = out.toString()

        then: 'six layers of activations become five layer inputs plus one layer; another forward pass of five layers'
        activations(checkpointed) < activations(plain) / 3
        flops(checkpointed) > flops(plain) * 1.3
    }

    def "check estimates half the frozen weights' and activations' memory with dtype float16, and says it is for GPUs"() {
        given:
        Files.writeString(dir.resolve('train.jsonl'), '{"text": "win money now", "label": "spam"}\n{"text": "see you", "label": "ham"}\n')
        String body = """\
model { source 'minilm'; task classification(labels: ['ham', 'spam']) }
lora { r 4; target 'query', 'value'; modulesToSave 'classifier' }
data { train jsonl('train.jsonl'); maxLength 128 }
train { batchSize 32 }
"""
        Path single = Files.writeString(dir.resolve('f32.groovy'), body)
        Path half = Files.writeString(dir.resolve('f16.groovy'), "dtype 'float16'\n" + body)
        def mib = { String text, String what -> (text =~ /${what} (\d+) MiB/)[0][1] as int }

        when:
        execute('check', single.toString())
        String f32 = out.toString()
        out.buffer.setLength(0)
        execute('check', half.toString())
        String f16 = out.toString()

        then: 'MiniLM is 22.7M parameters: 87 MiB in float32, 43 in float16 (the adapter stays float32)'
        Math.abs(mib(f32, 'weights') - 2 * mib(f16, 'weights')) <= 2
        Math.abs(mib(f32, 'activations') - 2 * mib(f16, 'activations')) <= 1
        mib(f16, 'optimizer state') == mib(f32, 'optimizer state')
        f16.contains('dtype      float16') && f16.contains('for GPUs')
        !f32.contains('dtype      float16')
    }

    def "a missing recipe file exits 2 with its name"() {
        expect:
        execute('run', dir.resolve('nope.groovy').toString()) == 2
        err.toString().contains('nope.groovy: no such recipe file')
    }

    def "the result table shows metrics before and after, trainable share, time, throughput, memory and the run directory"() {
        given:
        Path cwd = dir
        Summary s = new Summary(cwd.resolve('runs/spam-1'), 1_000, 100_000,
                [valid: [accuracy: 0.5d, f1: 0.4d]], [valid: [accuracy: 0.9d, f1: 0.85d], test: [accuracy: 0.88d, f1: 0.8d]],
                120, 75.2, 70.0, 12345.6, 3L * 1024 * 1024 * 1024)

        when:
        String report = RunCommand.report(s, cwd)

        then:
        report.contains('valid accuracy     0.5000   0.9000  +0.4000')
        report.contains('test f1                 —   0.8000')
        report.contains('1,000 of 100,000 parameters (1.000%)')
        report.contains('1m 15s (training 1m 10s, 120 steps)')
        report.contains('12,346 tokens/s')
        report.contains('3.00 GiB')
        report.contains("run directory    runs${File.separator}spam-1")
    }

    def "without a terminal progress is logged about every 5% of the steps"() {
        given:
        StringWriter log = new StringWriter()
        ProgressListener listener = new ProgressListener(new PrintWriter(log), false)

        when:
        listener.onPhase('loading model')
        listener.onTrainStart(100)
        (1..100).each { listener.onStep(new StepInfo(it, 100, 1, 0.5, 1e-4, 100, 1000, 0.01)) }
        listener.onEval('valid', 'after', [accuracy: 0.9d])
        listener.onTrainEnd()

        then:
        List<String> lines = log.toString().readLines()
        lines.count { it.startsWith('step ') } == 20
        lines.contains('» loading model')
        lines.any { it.startsWith('step 100/100 (100%)  epoch 1  loss 0.5000  lr 1.00e-04') }
        lines.last() == '» valid after: accuracy 0.9000'
    }

    def "counts print as integers and measurements with four decimals"() {
        given:
        StringWriter log = new StringWriter()
        ProgressListener listener = new ProgressListener(new PrintWriter(log), false)

        when:
        listener.onEval('valid', 'before', [accuracy: 0.47d, f1: 0.3954d, examples: 300d, loss: 0.6953d])
        listener.onEval('retrieval', 'after', ['mrr@10': 0.5d, queries: 400d])

        then:
        log.toString().readLines() == ['» valid before: accuracy 0.4700  f1 0.3954  examples 300  loss 0.6953',
                                       '» retrieval after: mrr@10 0.5000  queries 400']
    }

    def "colours only on a terminal and never with NO_COLOR set: #env on a terminal #interactive gives #colors"() {
        expect:
        Terminal.colors(env, interactive) == colors
        ProgressListener.barStyle(colors).is(colors ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK : ProgressBarStyle.UNICODE_BLOCK)

        where:
        env                   | interactive | colors
        [:]                   | true        | true
        [:]                   | false       | false
        [NO_COLOR: '1']       | true        | false
        [NO_COLOR: 'yes']     | false       | false
        [NO_COLOR: '']        | true        | true
    }

    def "help off a terminal has no ANSI escapes"() {
        when:
        execute('run', '--help')

        then:
        out.toString().contains('--preflight')
        !out.toString().contains('\u001b')
    }

    def "a recipe that never ends is stopped after --recipe-timeout with its line, exit 2"() {
        given:
        Files.writeString(dir.resolve('train.jsonl'), '{"text": "x", "label": "a"}\n')
        Path loop = Files.writeString(dir.resolve('loop.groovy'),
                "model { source 'minilm'; task classification(labels: ['a', 'b']) }\ndata { train jsonl('train.jsonl') }\nwhile (true) { }\n")

        when:
        int code = execute('check', loop.toString(), '--recipe-timeout', '1')

        then:
        code == 2
        err.toString().startsWith("${loop}:3: the recipe ran for more than 1 s and was stopped here")
    }

    def "a recipe's output directory is reused only to resume it: #state, resume #resume"() {
        given:
        Files.writeString(dir.resolve('train.jsonl'), '{"text": "x", "label": "a"}\n')
        Path out = dir.resolve('runs/fixed')
        Files.createDirectories(out)
        files.each { Files.writeString(out.resolve(it), '{}') }
        Path r = Files.writeString(dir.resolve('fixed.groovy'), "model { source 'minilm'; task classification(labels: ['a', 'b']) }\n" +
                "data { train jsonl('train.jsonl') }\noutput { dir 'runs/fixed' }\n")
        RunCommand command = new RunCommand(resume: resume)

        when:
        Path chosen = command.runDirectory(org.peft4j.dsl.RecipeLoader.loadRecipe(r, [:], false), null)

        then:
        (chosen == out) == reused

        where:
        state                    | files                            | resume | reused
        'empty'                  | []                               | false  | true
        'finished'               | ['summary.json', 'metrics.jsonl'] | false | false
        'interrupted'            | ['metrics.jsonl']                | false  | false
        'interrupted'            | ['metrics.jsonl']                | true   | true
        'finished'               | ['summary.json', 'metrics.jsonl'] | true  | true
    }

    def "an embedding result's rows are as wide as its longest metric name, a classifier's stay at 16"() {
        given:
        Summary s = new Summary(dir, 1, 2, [retrieval: ['mrr@10': 0.4728d, 'recall@10': 0.6d, queries: 400d]],
                [retrieval: ['mrr@10': 0.4822d, 'recall@10': 0.61d, queries: 400d]], 64, 60, 50, 100, 1L << 30)

        when:
        String report = RunCommand.report(s, dir)

        then:
        report.contains('retrieval mrr@10       0.4728   0.4822  +0.0094')
        report.contains('retrieval recall@10    0.6000   0.6100  +0.0100')
        !report.contains('queries')
    }
}
