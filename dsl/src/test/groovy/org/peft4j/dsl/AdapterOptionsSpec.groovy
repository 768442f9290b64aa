package org.peft4j.dsl

import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.adalora.OrthRegKind
import org.peft4j.peft.lora.LoraBias
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInit
import org.peft4j.run.RunConfig
import org.peft4j.train.MetricMode
import org.peft4j.train.TrainConfig
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** The adalora block, the lora block's PEFT options and the train block's checkpoint options, read into runtime configs. */
class AdapterOptionsSpec extends Specification {

    static final String BASE = '''\
model { source 'minilm'; task classification(labels: ['ham', 'spam']) }
data { train jsonl('data/train.jsonl'); valid jsonl('data/train.jsonl') }
'''

    static final String ADALORA = BASE + '''\
adalora {
    initR 12
    targetR 8
    tinit 10
    tfinal 20
    deltaT 5
    beta1 0.8
    beta2 0.9
    orthReg 0.2
    orthRegKind 'peft'
    totalSteps 0
    alpha 16
    dropout 0.05
    target 'query', 'value'
    modulesToSave 'classifier'
}
'''

    @TempDir
    Path dir

    def setup() {
        Files.createDirectories(dir.resolve('data'))
        Files.writeString(dir.resolve('data/train.jsonl'), '{"text": "win money now", "label": "spam"}\n')
    }

    private Path write(String name, String text) {
        Files.writeString(dir.resolve(name), text)
    }

    def "an adalora block gives the AdaLoraConfig it spells out, and no LoRA config"() {
        when:
        RunConfig config = RecipeLoader.load(write('ada.groovy', ADALORA))

        then:
        config.lora() == null
        config.adalora() == AdaLoraConfig.builder().initR(12).targetR(8).tinit(10).tfinal(20).deltaT(5).beta1(0.8)
                .beta2(0.9).orthReg(0.2).orthRegKind(OrthRegKind.PEFT).totalSteps(0).alpha(16).dropout(0.05)
                .targets(['query', 'value']).modulesToSave(['classifier']).build()
    }

    def "an adalora block with only targets keeps the builder's defaults, with the lora block's alpha and dropout"() {
        when:
        RunConfig config = RecipeLoader.load(write('ada.groovy', BASE + "adalora { target ~/.*\\.(query|value)/ }\n"))

        then:
        config.adalora() == AdaLoraConfig.builder().alpha(16).dropout(0.05).targetRegex(/.*\.(query|value)/).build()
    }

    def "override #key=#value reaches the adalora config"() {
        when:
        RunConfig config = RecipeLoader.load(write('ada.groovy', ADALORA), [(key): value])

        then:
        check(config.adalora())

        where:
        key                   | value    | check
        'adalora.targetR'     | '4'      | { AdaLoraConfig a -> a.targetR() == 4 }
        'adalora.tinit'       | '0'      | { AdaLoraConfig a -> a.tinit() == 0 }
        'adalora.orthRegKind' | 'paper'  | { AdaLoraConfig a -> a.orthRegKind() == OrthRegKind.PAPER }
        'adalora.target'      | 'query'  | { AdaLoraConfig a -> a.targets() == ['query'] }
        'adalora.lambdaLrRatio' | '8'    | { AdaLoraConfig a -> a.lambdaLrRatio() == 8.0d }
        'adalora.deltaT'      | '-1'     | { AdaLoraConfig a -> a.deltaT() == AdaLoraConfig.AUTO }
    }

    def "#mistake in an adalora recipe names the line and the fix"() {
        given:
        Path recipe = write('bad.groovy', ADALORA.replace(from, to))

        when:
        RecipeLoader.load(recipe, overrides)

        then:
        RecipeException e = thrown()
        e.problems.any { it.startsWith("${recipe}:${line}:") && it.contains(hint) }

        where:
        mistake                           | from                  | to                          | overrides                   | line | hint
        'an unknown option'               | 'initR 12'            | 'initRank 12'               | [:]                         | 4    | 'valid: alpha, beta1, beta2, deltaT'
        'a value of the wrong type'       | 'targetR 8'           | "targetR 'eight'"           | [:]                         | 5    | 'takes a whole number'
        'targetR above initR'             | 'targetR 8'           | 'targetR 16'                | [:]                         | 5    | 'lower targetR or raise initR'
        'an unknown orthRegKind'          | "orthRegKind 'peft'"  | "orthRegKind 'squared'"     | [:]                         | 12   | "use 'paper' or 'peft'"
        'tinit + tfinal >= totalSteps'    | 'totalSteps 0'        | 'totalSteps 30'             | [:]                         | 6    | 'to leave a budgeting phase; lower tinit or tfinal'
        'tinit + tfinal >= train.maxSteps'| 'totalSteps 0'        | 'totalSteps 0'              | ['train.maxSteps': '25']    | 6    | 'at most train.maxSteps = 25'
    }

    def "a recipe with both a lora and an adalora block names both lines"() {
        given:
        Path base = write('ada.groovy', ADALORA)
        Path recipe = write('both.groovy', "from 'ada.groovy'\nlora { r 8; target 'query' }\n")

        when:
        RecipeLoader.load(recipe)

        then:
        RecipeException e = thrown()
        e.problems == ["${recipe}:2: lora { } (${recipe}:2) and adalora { } (${base}:3) are both given; a recipe has one adapter: remove one of the two blocks".toString()]
    }

    def "lora option #line sets LoraConfig.#field"() {
        when:
        RunConfig config = RecipeLoader.load(write('lora.groovy', BASE + "lora {\n    target 'query', 'value'\n    ${line}\n}\n"))

        then:
        config.lora()."${field}"() == expected

        where:
        line                                        | field               | expected
        'rsLora true'                               | 'rsLora'            | true
        'useDora true'                              | 'useDora'           | true
        "init 'kaiming'"                            | 'init'              | LoraInit.KAIMING_UNIFORM
        "init 'gaussian'"                           | 'init'              | LoraInit.GAUSSIAN
        "init 'pissa'"                              | 'init'              | LoraInit.PISSA
        "bias 'none'"                               | 'bias'              | LoraBias.NONE
        "bias 'all'"                                | 'bias'              | LoraBias.ALL
        "bias 'loraOnly'"                           | 'bias'              | LoraBias.LORA_ONLY
        "rankPattern 'query': 16, (~/.*value/): 4"  | 'rankPattern'       | ['query': 16, '.*value': 4]
        "rankPattern(['query': 16])"                | 'rankPattern'       | ['query': 16]
        "alphaPattern 'query': 32"                  | 'alphaPattern'      | ['query': 32d]
        "exclude 'classifier'"                      | 'exclude'           | ['classifier']
        'exclude ~/.*layer\\.0\\..*/'               | 'excludeRegex'      | /.*layer\.0\..*/
        'layersToTransform 0, 1'                    | 'layersToTransform' | [0, 1]
        "layersToTransform 0, 1; layersPattern 'layer'" | 'layersPattern' | ['layer']
        'fanInFanOut true'                          | 'fanInFanOut'       | true
        'allLinear()'                               | 'allLinear'         | true
        'allLinear()'                               | 'targets'           | []
    }

    def "a full lora block is built through LoraConfig's builder"() {
        when:
        RunConfig config = RecipeLoader.load(write('lora.groovy', BASE + '''\
lora {
    allLinear()
    r 4; alpha 8; dropout 0.1
    rsLora true
    init 'gaussian'
    bias 'loraOnly'
    rankPattern 'query': 16
    alphaPattern 'query': 32
    exclude 'intermediate.dense'
    layersToTransform 0, 1
    layersPattern 'layer'
    modulesToSave 'classifier'
}
'''))

        then:
        config.lora() == LoraConfig.builder().allLinear().r(4).alpha(8).dropout(0.1).rsLora(true).init(LoraInit.GAUSSIAN)
                .bias(LoraBias.LORA_ONLY).rankPattern(['query': 16]).alphaPattern(['query': 32d]).exclude('intermediate.dense')
                .layersToTransform([0, 1]).layersPattern(['layer']).modulesToSave('classifier').build()
    }

    def "#mistake in a lora block names the line and the valid values"() {
        given:
        Path recipe = write('bad.groovy', BASE + "lora {\n    target 'query'\n    ${line}\n}\n")

        when:
        RecipeLoader.load(recipe)

        then:
        RecipeException e = thrown()
        e.problems.any { it.startsWith("${recipe}:5:") && it.contains(hint) }

        where:
        mistake                  | line                          | hint
        'an unknown init'        | "init 'xavier'"               | "use 'kaiming', 'gaussian', 'pissa'"
        'an unknown bias'        | "bias 'some'"                 | "use 'none', 'all', 'loraOnly'"
        'PiSSA with DoRA'        | "init 'pissa'; useDora true"  | 'PEFT does not combine them'
        'a rank pattern of zero' | "rankPattern 'query': 0"      | "lora.rankPattern['query'] = 0 must be >= 1"
        'a boolean as text'      | "rsLora 'yes'"                | 'rsLora in lora { } takes true or false'
    }

    def "override lora.#option=#value is typed like the recipe"() {
        when:
        RunConfig config = RecipeLoader.load(write('lora.groovy', BASE + "lora { target 'query' }\n"), [("lora.${option}".toString()): value])

        then:
        config.lora()."${option}"() == expected

        where:
        option    | value   | expected
        'rsLora'  | 'true'  | true
        'useDora' | 'true'  | true
        'init'    | 'pissa' | LoraInit.PISSA
    }

    def "train checkpoint options map to TrainConfig"() {
        when:
        RunConfig config = RecipeLoader.load(write('t.groovy', BASE + "lora { target 'query' }\n" +
                "train { evalEvery 10; checkpointEvery 50; keepCheckpoints 2; bestMetric 'valid.f1'; bestMode 'max'; patience 3 }\n"))

        then:
        config.train() == new TrainConfig(1, 16, 1, 1.0, 42, 10, 0, 64, 50, 2, 'valid.f1', MetricMode.MAX, 3)
        !config.train().activationCheckpointing()
    }

    def "activationCheckpointing true in the train block turns it on"() {
        when:
        RunConfig config = RecipeLoader.load(write('t.groovy', BASE + "lora { target 'query' }\n" +
                "train { activationCheckpointing true }\n"))

        then:
        config.train().activationCheckpointing()
        config.train() == TrainConfig.defaults().withActivationCheckpointing(true)
    }

    def "#mistake in the train block names the line"() {
        given:
        Path recipe = write('t.groovy', BASE + "lora { target 'query' }\ntrain { ${line} }\n")

        when:
        RecipeLoader.load(recipe)

        then:
        RecipeException e = thrown()
        e.problems.any { it.startsWith("${recipe}:4:") && it.contains(hint) }

        where:
        mistake                   | line                                     | hint
        'an unknown bestMode'     | "evalEvery 5; bestMetric 'valid.f1'; bestMode 'up'" | "use 'max' or 'min'"
        'a metric without evals'  | "bestMetric 'valid.f1'"                  | 'needs evaluations during training'
        'patience without metric' | 'patience 3'                             | 'needs a metric to watch'
        'no checkpoints kept'     | 'keepCheckpoints 0'                      | 'must be >= 1'
    }
}
