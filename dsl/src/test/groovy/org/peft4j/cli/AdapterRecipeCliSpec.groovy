package org.peft4j.cli

import org.peft4j.run.RunOptions
import picocli.CommandLine
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** Adapter recipe mistakes reach the user through the command line as file:line and exit 2; --resume reaches the run. */
class AdapterRecipeCliSpec extends Specification {

    static final String ADALORA = '''\
model { source 'minilm'; task classification(labels: ['ham', 'spam']) }
data { train jsonl('train.jsonl') }
adalora {
    initR 12
    targetR 8
    tinit 10
    tfinal 20
    target 'query', 'value'
    modulesToSave 'classifier'
}
'''

    @Shared @TempDir
    Path dir

    def setupSpec() {
        Files.writeString(dir.resolve('train.jsonl'), '{"text": "win money now", "label": "spam"}\n{"text": "lunch at noon", "label": "ham"}\n')
        Files.writeString(dir.resolve('ada.groovy'), ADALORA)
    }

    def "check refuses #mistake with exit 2 and file:line"() {
        given:
        Path recipe = Files.writeString(dir.resolve(name), text)

        when:
        Cli c = Cli.run(*(['check', recipe.toString(), '--quiet'] + args))

        then:
        c.code == 2
        c.err.toString().contains("${recipe}:${line}: ")
        c.err.toString().contains(hint)
        !c.err.toString().contains('\tat ')

        where:
        mistake                     | name           | text                                               | args                             | line | hint
        'an unknown adalora option' | 'unknown.groovy' | ADALORA.replace('initR 12', 'initRank 12')       | []                               | 4    | "unknown option 'initRank' in adalora { }"
        'tinit + tfinal too big'    | 'big.groovy'   | ADALORA.replace('tfinal 20', 'tfinal 20; totalSteps 25') | []                       | 6    | 'to leave a budgeting phase'
        'tinit + tfinal past maxSteps' | 'steps.groovy' | ADALORA                                          | ['--set', 'train.maxSteps=2']    | 6    | 'at most train.maxSteps = 2'
        'both adapter blocks'       | 'both.groovy'  | "from 'ada.groovy'\nlora { target 'query' }\n"    | []                               | 2    | "and adalora { } (${dir.resolve('ada.groovy')}:3) are both given"
    }

    def "the plan's step count is checked against tinit + tfinal at the recipe's line"() {
        given:
        // two examples, batch 16: one step, so tinit 10 + tfinal 20 leaves no budgeting phase
        Path recipe = dir.resolve('ada.groovy')

        when:
        Cli c = Cli.run('check', recipe.toString(), '--quiet')

        then:
        c.code == 2
        c.err.toString().contains("${recipe}:6: adalora.tinit + adalora.tfinal = 10 + 20 = 30 must be < totalSteps = 1")
    }

    def "run --resume #given gives RunOptions.resume = #resume"() {
        given:
        RunCommand run = new RunCommand()
        new CommandLine(run).parseArgs(*(['recipe.groovy', '--out', 'runs/x'] + args))

        expect:
        run.options(Path.of('runs/x'), Path.of('recipe.groovy')) == new RunOptions(Path.of('runs/x'), Path.of('recipe.groovy'), true, resume)

        where:
        given     | args           | resume
        'given'   | ['--resume']   | true
        'omitted' | []             | false
    }
}
