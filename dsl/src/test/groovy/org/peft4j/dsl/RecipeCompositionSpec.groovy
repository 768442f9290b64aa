package org.peft4j.dsl

import org.peft4j.run.RunConfig
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class RecipeCompositionSpec extends Specification {

    static final String BASE = '''\
recipe 'base'
params {
    lr 1e-3
    rank 8
    name 'spam'
}
model {
    source 'minilm'
    task classification(labels: ['ham', 'spam'])
}
lora {
    r params.rank
    alpha params.rank * 2
    target 'query', 'value'
}
data {
    train jsonl('data/train.jsonl')
    maxLength 64
}
optimizer adamW(lr: params.lr)
train { epochs 2 }
'''

    @TempDir
    Path dir

    def setup() {
        Files.createDirectories(dir.resolve('data'))
        Files.createDirectories(dir.resolve('variants/data'))
        Files.writeString(dir.resolve('data/train.jsonl'), '{"text": "win money", "label": "spam"}\n')
        Files.writeString(dir.resolve('variants/data/other.jsonl'), '{"text": "hello", "label": "ham"}\n')
        Files.writeString(dir.resolve('base.groovy'), BASE)
    }

    private Path write(String name, String text) {
        Files.writeString(dir.resolve(name), text)
    }

    def "params give defaults that the recipe uses, typed by the default"() {
        when:
        Recipe r = RecipeLoader.loadRecipe(dir.resolve('base.groovy'), [:], false)

        then:
        r.config().lora().r() == 8
        r.config().lora().alpha() == 16d
        r.config().optimizer().lr() == 1e-3d
        r.params() == [lr: 1e-3, rank: 8, name: 'spam']
        r.files() == [dir.resolve('base.groovy')]
    }

    def "--set params.x changes every use of the param"() {
        when:
        Recipe r = RecipeLoader.loadRecipe(dir.resolve('base.groovy'), ['params.rank': '4', 'params.lr': '2e-4'], false)

        then:
        r.config().lora().r() == 4
        r.config().lora().alpha() == 8d
        r.config().optimizer().lr() == 2e-4d
    }

    def "#what is refused with #hint"() {
        when:
        RecipeLoader.loadRecipe(dir.resolve('base.groovy'), overrides, false)

        then:
        RecipeException e = thrown()
        e.message.contains(hint)

        where:
        what                        | overrides                  | hint
        'a value of the wrong type' | ['params.rank': 'x']       | "--set params.rank=x: params.rank takes a whole number (its default is 8), not 'x'"
        'an undeclared param'       | ['params.rnk': '4']        | "the recipe declares no param 'rnk'; declared: lr, rank, name"
    }

    def "a misspelt param fails at compile time with its line and the declared names"() {
        given:
        Path bad = write('bad.groovy', BASE.replace('r params.rank', 'r params.rnak'))

        when:
        RecipeLoader.load(bad)

        then:
        RecipeException e = thrown()
        e.message.startsWith("${bad}:12: params.rnak is not declared; did you mean 'params.rank'?")
    }

    def "a recipe starts from another, changes parts, and reads its own paths from its own folder"() {
        given:
        Path variant = Files.writeString(dir.resolve('variants/small.groovy'), '''\
from '../base.groovy'
recipe 'small'
params { rank 4 }
lora { dropout 0.1 }
data { train jsonl('data/other.jsonl') }
output { dir 'runs/small' }
''')

        when:
        Recipe r = RecipeLoader.loadRecipe(variant, [:], false)

        then:
        r.config().name() == 'small'
        r.config().lora().dropout() == 0.1d
        r.config().lora().targets() == ['query', 'value']
        r.config().data().train() == dir.resolve('variants/data/other.jsonl')
        r.config().data().maxLength() == 64
        r.config().train().epochs() == 2
        r.outputDir() == dir.resolve('variants/runs/small')
        r.files() == [variant, dir.resolve('base.groovy')]
    }

    def "a param redeclared by a derived recipe changes its default before the base uses it? no: the base has used it already"() {
        given: 'params are read where they are used, so a derived recipe sets params for what it writes itself'
        Path variant = write('v.groovy', "from 'base.groovy'\nparams { rank 4 }\nlora { r params.rank }\n")

        expect:
        RecipeLoader.load(variant).lora().r() == 4
        RecipeLoader.load(variant, ['params.rank': '2']).lora().r() == 2
    }

    def "a problem in the base recipe names the base file and its line"() {
        given:
        write('base.groovy', BASE.replace('maxLength 64', 'maxLength 2'))
        Path variant = write('v.groovy', "from 'base.groovy'\nrecipe 'v'\n")

        when:
        RecipeLoader.load(variant)

        then:
        RecipeException e = thrown()
        e.message.contains("base.groovy:18: data.maxLength = 2 must be in [8, 512]")
    }

    def "a cycle of from is an error naming both files"() {
        given:
        write('a.groovy', "from 'b.groovy'\n")
        write('b.groovy', "from 'a.groovy'\n")

        when:
        RecipeLoader.load(dir.resolve('a.groovy'))

        then:
        RecipeException e = thrown()
        e.message.contains('b.groovy:1: from ')
        e.message.contains('makes a cycle')
        e.message.contains('a.groovy → ')
    }

    def "from after other settings is refused, since it would undo them"() {
        given:
        Path late = write('late.groovy', "recipe 'x'\nfrom 'base.groovy'\n")

        when:
        RecipeLoader.load(late)

        then:
        RecipeException e = thrown()
        e.message.contains("late.groovy:2: from 'base.groovy' must come before anything else")
    }

    def "output.dir set on the command line is read from where the command runs"() {
        when:
        Recipe r = RecipeLoader.loadRecipe(dir.resolve('base.groovy'), ['output.dir': 'somewhere'], false)

        then:
        r.outputDir() == Path.of('somewhere').toAbsolutePath()
    }
}
