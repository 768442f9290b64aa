package org.peft4j.dsl

import org.peft4j.data.DataConfig
import org.peft4j.models.ModelSpec
import org.peft4j.models.TaskType
import org.peft4j.models.core.ClassifierHead
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.run.RunConfig
import org.peft4j.tensor.BackendConfig
import org.peft4j.train.OptimizerConfig
import org.peft4j.train.ScheduleConfig
import org.peft4j.train.TrainConfig
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class RecipeLoaderSpec extends Specification {

    static final String GOOD = '''\
recipe 'spam-lora'
device 'cpu'
model {
    source 'minilm'
    task classification(labels: ['ham', 'spam'])
}
lora {
    r 8
    alpha 16
    dropout 0.05
    target 'query', 'value'
    modulesToSave 'classifier'
}
data {
    train jsonl('data/train.jsonl') { text 'text'; label 'label' }
    valid jsonl('data/valid.jsonl')
    test  jsonl('data/test.jsonl')
    maxLength 128
    limit 0
}
optimizer adamW(lr: 5e-4, weightDecay: 0.01)
schedule linear(warmup: 0.06)
train {
    epochs 2
    batchSize 16
    gradAccum 1
    clipNorm 1.0
    seed 7
    evalEvery 0
    maxSteps 0
    evalBatchSize 64
}
'''

    @TempDir
    Path dir

    def setup() {
        Files.createDirectories(dir.resolve('data'))
        for (split in ['train', 'valid', 'test']) {
            Files.writeString(dir.resolve("data/${split}.jsonl"), '{"text": "win money now", "label": "spam"}\n')
        }
    }

    private Path write(String name, String text) {
        Files.writeString(dir.resolve(name), text)
    }

    def "a complete recipe gives the RunConfig it spells out, with data paths read from the recipe's folder"() {
        when:
        RunConfig config = RecipeLoader.load(write('spam.groovy', GOOD))

        then:
        config == new RunConfig('spam-lora', BackendConfig.defaults(),
                new ModelSpec('minilm', null, TaskType.CLASSIFICATION, ['ham', 'spam']),
                LoraConfig.of(8, 16, 0.05, ['query', 'value'], ['classifier']),
                new DataConfig(dir.resolve('data/train.jsonl'), dir.resolve('data/valid.jsonl'), dir.resolve('data/test.jsonl'),
                        'text', 'label', 128, 0),
                OptimizerConfig.adamW(5e-4, 0.01), ScheduleConfig.linear(0.06),
                new TrainConfig(2, 16, 1, 1.0, 7, 0, 0, 64))
    }

    def "a minimal recipe takes the documented defaults, and no lora block means full fine-tuning"() {
        when:
        RunConfig config = RecipeLoader.load(write('minimal.groovy', '''\
model { source 'minilm'; task classification(labels: ['a', 'b']) }
data { train jsonl('data/train.jsonl') }
'''))

        then:
        config.name() == 'minimal'
        config.backend() == BackendConfig.defaults()
        config.lora() == null
        config.optimizer() == OptimizerConfig.adamW(5e-4, 0.01)
        config.schedule() == ScheduleConfig.linear(0.06)
        config.train() == TrainConfig.defaults()
        config.data() == new DataConfig(dir.resolve('data/train.jsonl'), null, null, 'text', 'label', 128, 0)
    }

    def "#what are read as written"() {
        when:
        RunConfig config = RecipeLoader.load(write('r.groovy', GOOD + line))

        then:
        check(config)

        where:
        what                    | line                                              | check
        'an SGD optimizer'      | "optimizer sgd(lr: 0.1, momentum: 0.9)"           | { RunConfig c -> c.optimizer() == OptimizerConfig.sgd(0.1, 0.9) }
        'a cosine schedule'     | "schedule cosine(warmup: 0.1)"                    | { RunConfig c -> c.schedule() == new ScheduleConfig(ScheduleConfig.Kind.COSINE, 0.1) }
        'a constant schedule'   | "schedule constant()"                             | { RunConfig c -> c.schedule() == new ScheduleConfig(ScheduleConfig.Kind.CONSTANT, 0) }
        'device, dtype, threads'| "device 'cuda:1'; dtype 'float16'; threads 2"    | { RunConfig c -> c.backend() == new BackendConfig('cuda:1', 'float16', 2) }
        'bfloat16 products'     | "dtype 'bfloat16'"                                | { RunConfig c -> c.backend().dtype() == 'bfloat16' }
        'auto products'         | "dtype 'auto'"                                    | { RunConfig c -> c.backend().dtype() == 'auto' }
    }

    def "a classifier's head is read as written, and absent it is left to the model's convention"() {
        when:
        RunConfig named = RecipeLoader.load(write('h.groovy', GOOD.replace("labels: ['ham', 'spam'])", "labels: ['ham', 'spam'], head: '${head}')")))
        RunConfig plain = RecipeLoader.load(write('p.groovy', GOOD))

        then:
        named.model().head() == expected
        plain.model().head() == null

        where:
        head           | expected
        'transformers' | ClassifierHead.TRANSFORMERS
        'mean'         | ClassifierHead.MEAN
    }

    def "the target regex replaces names when the lora block gives only a regex"() {
        when:
        RunConfig config = RecipeLoader.load(write('re.groovy', GOOD.replace("target 'query', 'value'", 'target ~/.*\\.(query|value)/')))

        then:
        config.lora().targetRegex() == /.*\.(query|value)/
        config.lora().targets().isEmpty()
    }

    def "#mistake fails with the recipe file, the line and a hint"() {
        given:
        Path recipe = write('bad.groovy', GOOD.replace(from, to))

        when:
        RecipeLoader.load(recipe)

        then:
        RecipeException e = thrown()
        e.message.startsWith("${recipe}:${line}:")
        e.message.contains(hint)

        where:
        mistake                     | from                          | to                                  | line | hint
        'a misspelt block'          | 'lora {'                      | 'lorra {'                           | 7    | "did you mean 'lora'?"
        'a misspelt option'         | 'r 8'                         | 'rr 8'                              | 8    | 'valid: allLinear, alpha, alphaPattern, bias, dropout, exclude, fanInFanOut, init, layersPattern, layersToTransform, modulesToSave, r, rankPattern, rsLora, target, useDora'
        'a value of the wrong type' | 'r 8'                         | "r 'eight'"                         | 8    | 'takes a whole number'
        'a rank of zero'            | 'r 8'                         | 'r 0'                               | 8    | 'lora.r = 0 must be >= 1'
        'dropout out of range'      | 'dropout 0.05'                | 'dropout 1.5'                       | 10   | 'must be in [0, 1)'
        'an unknown embedded model' | "source 'minilm'"             | "source 'minilmm'"                  | 4    | "valid: [minilm, bge-small-en]"
        'a regex that cannot compile' | "target 'query', 'value'"   | 'target ~/(query/'                  | 11   | 'does not compile'
        'a misspelt named value'    | 'adamW(lr: 5e-4'              | 'adamW(lrr: 5e-4'                   | 21   | 'unexpected named arg: lrr'
        'an unknown device'         | "device 'cpu'"                | "device 'gpu'"                      | 2    | 'use cpu, cuda, cuda:N'
        'a missing data file'       | "data/valid.jsonl"            | "data/nope.jsonl"                   | 16   | 'does not exist'
        'a block given twice'       | "train {"                     | "train { epochs 1 }\ntrain {"       | 24   | 'given twice (first at line 23)'
        'an unquoted name'          | "target 'query', 'value'"     | "target query"                      | 11   | "unknown name 'query'"
        'a bad train value'         | 'batchSize 16'                | 'batchSize 0'                       | 25   | 'train.batchSize = 0 must be >= 1'
        'an unknown head'           | "labels: ['ham', 'spam'])"    | "labels: ['ham', 'spam'], head: 'cls')" | 5 | "head: 'cls') is not a head peft4j builds; valid: 'transformers', 'mean'"
    }

    def "a misspelt block gives one error, not one per line inside it"() {
        given:
        Path recipe = write('trian.groovy', GOOD.replace('train {', 'trian {'))

        when:
        RecipeLoader.load(recipe)

        then:
        RecipeException e = thrown()
        e.problems == ["${recipe}:23: unknown block or option 'trian' in the top level of a recipe; did you mean 'train'?; valid: adalora { }, data { }, device, dtype, from, lora { }, model { }, optimizer, output { }, params { }, recipe, schedule, threads, train { }".toString()]
    }

    def "a recipe without a model block is refused with what to write"() {
        given:
        Path recipe = write('nomodel.groovy', "data { train jsonl('data/train.jsonl') }\n")

        when:
        RecipeLoader.load(recipe)

        then:
        RecipeException e = thrown()
        e.message.startsWith("${recipe}:1:")
        e.message.contains("the model block is missing: model { source 'minilm'")
    }

    def "all problems of a recipe are reported together, in line order"() {
        when:
        RecipeLoader.load(write('many.groovy', GOOD.replace('r 8', 'r 0').replace('epochs 2', 'epochs 0')))

        then:
        RecipeException e = thrown()
        e.problems.size() == 2
        e.problems[0].contains('many.groovy:8: lora.r = 0 must be >= 1')
        e.problems[1].contains('many.groovy:24: train.epochs = 0 must be >= 1')
    }

    def "override #key=#value changes the resolved config"() {
        when:
        RunConfig config = RecipeLoader.load(write('o.groovy', GOOD), [(key): value])

        then:
        check(config)

        where:
        key                  | value          | check
        'train.epochs'       | '1'            | { RunConfig c -> c.train().epochs() == 1 }
        'lora.r'             | '16'           | { RunConfig c -> c.lora().r() == 16 }
        'lora.target'        | 'query,key'    | { RunConfig c -> c.lora().targets() == ['query', 'key'] }
        'data.limit'         | '200'          | { RunConfig c -> c.data().limit() == 200 }
        'optimizer.lr'       | '1e-4'         | { RunConfig c -> c.optimizer().lr() == 1e-4d }
        'schedule.warmup'    | '0'            | { RunConfig c -> c.schedule().warmup() == 0d }
        'train.clipNorm'     | '0.5'          | { RunConfig c -> c.train().clipNorm() == 0.5d }
        'device'             | 'auto'         | { RunConfig c -> c.backend().device() == 'auto' }
        'recipe'             | 'other'        | { RunConfig c -> c.name() == 'other' }
    }

    def "override #key=#value is refused with #hint"() {
        when:
        RecipeLoader.load(write('o.groovy', GOOD), [(key): value])

        then:
        RecipeException e = thrown()
        e.message.startsWith("${dir.resolve('o.groovy')}: --set ${key}=${value}:")
        e.message.contains(hint)

        where:
        key             | value   | hint
        'train.epoch'   | '1'     | 'valid keys: train.activationCheckpointing, train.batchSize, train.bestMetric'
        'lorra.r'       | '8'     | 'lora.r'
        'lora.r'        | 'eight' | 'lora.r takes a whole number'
        'lora.r'        | '0'     | 'lora.r = 0 must be >= 1'
        'optimizer.lr'  | 'fast'  | 'takes a number'
    }

    def "a recipe that does not exist is refused by name"() {
        when:
        RecipeLoader.load(dir.resolve('missing.groovy'))

        then:
        RecipeException e = thrown()
        e.message.contains('missing.groovy: no such recipe file')
    }
}
