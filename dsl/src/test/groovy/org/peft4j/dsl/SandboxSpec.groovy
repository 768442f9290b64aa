package org.peft4j.dsl

import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class SandboxSpec extends Specification {

    static final String RECIPE = '''\
model { source 'minilm'; task classification(labels: ['a', 'b']) }
data { train jsonl('train.jsonl') }
'''

    @TempDir
    Path dir

    def setup() {
        Files.writeString(dir.resolve('train.jsonl'), '{"text": "x", "label": "a"}\n')
    }

    def "a shared recipe may not use #construct: refused at line 3 before anything runs"() {
        given:
        Path recipe = Files.writeString(dir.resolve('hostile.groovy'), RECIPE + '\n' + code + '\n')

        when:
        RecipeLoader.loadRecipe(recipe, [:], false)

        then:
        RecipeException e = thrown()
        e.message.startsWith("${recipe}:${line}: refused: ")
        e.message.contains(named)
        e.message.contains('--allow-code')
        !Files.exists(Path.of('/tmp/peft4j-sandbox-x'))

        where:
        construct         | code                                               | line | named
        'execute()'       | "'ls'.execute()"                                   | 4    | '.execute(...)'
        'File'            | "new File('/tmp/peft4j-sandbox-x').text = 'y'"     | 4    | 'new File(...)'
        'System'          | 'System.exit(1)'                                   | 4    | 'java.lang.System'
        'Class.forName'   | "Class.forName('java.lang.Runtime')"               | 4    | 'java.lang.Class'
        'Eval'            | "Eval.me('1')"                                     | 4    | 'groovy.util.Eval'
        'the class loader'| 'this.class.classLoader'                           | 4    | '.class'
        'metaClass'       | 'String.metaClass.x = {}'                          | 4    | '.metaClass'
        '@Grab'           | "@Grab('org.example:evil:1.0')\nimport evil.X"     | 4    | '@Grab'
        'evaluate'        | "evaluate('1 + 1')"                                | 4    | 'evaluate(...)'
        'imports'         | 'import java.nio.file.Files'                       | 4    | "'import java.nio.file.Files'"
        'Runtime'         | "Runtime.runtime.exec('ls')"                       | 4    | 'java.lang.Runtime'
        'a method pointer'| "def f = 'ls'.&execute"                            | 4    | 'method pointer'
        'a method def'    | 'def hack() { 1 }'                                 | 4    | 'defining method hack()'
        'Paths'           | "java.nio.file.Paths.get('/etc/passwd')"           | 4    | 'java.nio.file.Paths'
        'a URL'           | "new URL('http://example.com').text"               | 4    | 'new URL(...)'
        'a ProcessBuilder'| "new ProcessBuilder('ls').start()"                 | 4    | 'new ProcessBuilder(...)'
    }

    def "the DSL itself, params and plain values pass the sandbox"() {
        given:
        Path recipe = Files.writeString(dir.resolve('ok.groovy'), '''\
params { lr 1e-3; rank 4; labels(['a', 'b']) }
model { source 'minilm'; task classification(labels: params.labels) }
lora { r params.rank * 2; alpha Math.max(8, params.rank); target 'query', 'value' }
data { train jsonl('train.jsonl'); maxLength 32 }
optimizer adamW(lr: params.lr / 2)
recipe "sandboxed-${params.rank}"
''')

        when:
        Recipe r = RecipeLoader.loadRecipe(recipe, [:], false)

        then:
        r.config().lora().r() == 8
        r.config().name() == 'sandboxed-4'
        r.config().optimizer().lr() == 5e-4d
    }

    def "--allow-code lifts the sandbox for a trusted recipe"() {
        given:
        Path recipe = Files.writeString(dir.resolve('code.groovy'), RECIPE + "recipe new File('x').name\n")

        expect:
        RecipeLoader.loadRecipe(recipe, [:], true).config().name() == 'x'
    }

    def "a recipe that never ends is stopped at its time limit, at the line of its loop (#where, #mode)"() {
        given:
        Path recipe = Files.writeString(dir.resolve('loop.groovy'), RECIPE + code + '\n')

        when:
        long start = System.nanoTime()
        RecipeLoader.loadRecipe(recipe, [:], allowCode, [:], 1)

        then:
        RecipeException e = thrown()
        e.message.startsWith("${recipe}:${line}: the recipe ran for more than 1 s and was stopped here")
        e.message.contains('--recipe-timeout')
        (System.nanoTime() - start) / 1e9 < 20

        where:
        where             | mode       | allowCode | code                                            | line
        'at the top'      | 'sandbox'  | false     | 'int n = 0\nwhile (true) { n++ }'               | 4
        'in a block'      | 'sandbox'  | false     | 'train {\n    while (true) { }\n}'              | 4
        'at the top'      | 'trusted'  | true      | 'while (true) { }'                              | 3
        'in a for loop'   | 'trusted'  | true      | 'for (;;) { }'                                  | 3
    }

    def "a base recipe that never ends is named with its own file and line"() {
        given:
        Files.writeString(dir.resolve('base.groovy'), RECIPE + 'int i = 0\nwhile (i >= 0) { i = 1 }\n')
        Path recipe = Files.writeString(dir.resolve('child.groovy'), "from 'base.groovy'\nrecipe 'child'\n")

        when:
        RecipeLoader.loadRecipe(recipe, [:], false, [:], 1)

        then:
        RecipeException e = thrown()
        e.message.contains('base.groovy:4: the recipe ran for more than 1 s')
    }

    def "the time limit's own check passes the sandbox: a recipe within it loads"() {
        given:
        Path recipe = Files.writeString(dir.resolve('ok.groovy'), RECIPE + 'int n = 0\nfor (int i = 0; i < 3; i++) { n++ }\ntrain { epochs n }\n')

        when:
        Recipe r = RecipeLoader.loadRecipe(recipe, [:], false, [:], 5)

        then:
        r.config().train().epochs() == 3
    }
}
