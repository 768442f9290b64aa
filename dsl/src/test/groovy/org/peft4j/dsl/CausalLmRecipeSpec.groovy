package org.peft4j.dsl

import org.peft4j.data.ChatTemplate
import org.peft4j.data.TextFormat
import org.peft4j.models.ModelInit
import org.peft4j.models.TaskType
import org.peft4j.run.CausalLmOptions
import org.peft4j.run.RunConfig
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class CausalLmRecipeSpec extends Specification {

    static final String GOOD = '''\
recipe 'chat'
model {
    path 'models/lm'
    task causalLm(template: 'chatml', prompts: ['Hi!', 'Sky?'], maxNewTokens: 12, packing: true)
}
lora { r 4; alpha 8; target 'q_proj', 'v_proj' }
data {
    train chats('data/train.jsonl')
    valid chats('data/valid.jsonl')
    maxLength 1024
}
'''

    @TempDir
    Path dir

    def setup() {
        Files.createDirectories(dir.resolve('data'))
        Files.createDirectories(dir.resolve('models/lm'))
        Files.writeString(dir.resolve('models/lm/config.json'), '{"model_type": "llama"}')
        for (split in ['train', 'valid', 'test']) {
            Files.writeString(dir.resolve("data/${split}.jsonl"), '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n')
        }
    }

    private Path write(String name, String text) {
        Files.writeString(dir.resolve(name), text)
    }

    private String problems(String recipe) {
        try {
            RecipeLoader.load(write('r.groovy', recipe))
            return ''
        } catch (RecipeException e) {
            return e.message
        }
    }

    def "a causal-LM recipe gives the task, the model directory, the files' format and the generation prompts"() {
        when:
        RunConfig config = RecipeLoader.load(write('chat.groovy', GOOD))

        then:
        config.model().task() == TaskType.CAUSAL_LM
        config.model().path() == dir.resolve('models/lm')
        config.model().init() == ModelInit.PRETRAINED
        config.causalLm() == new CausalLmOptions(TextFormat.CHATS, ChatTemplate.CHATML, ['Hi!', 'Sky?'], 12, true)
        config.data().maxLength() == 1024      // past BERT's 512: a decoder's limit is checked when it is loaded
        config.data().valid() == dir.resolve('data/valid.jsonl')
    }

    def "#format files read as #expected; a plain-path override of one split takes the others' format"() {
        when:
        RunConfig config = RecipeLoader.load(write('f.groovy', GOOD.replace("template: 'chatml', ", '')
                .replace("chats('data/train.jsonl')", "${format}('data/train.jsonl')")
                .replace("chats('data/valid.jsonl')", "${format}('data/valid.jsonl')")),
                ['data.valid': dir.resolve('data/test.jsonl').toString()])

        then:
        config.causalLm().format() == expected
        config.causalLm().template() == null
        config.data().valid() == dir.resolve('data/test.jsonl')

        where:
        format         | expected
        'instructions' | TextFormat.INSTRUCTIONS
        'chats'        | TextFormat.CHATS
        'texts'        | TextFormat.TEXTS
    }

    def "init 'random' starts from config.json alone"() {
        when:
        RunConfig config = RecipeLoader.load(write('s.groovy', GOOD.replace("path 'models/lm'", "path 'models/lm'; init 'random'")))

        then:
        config.model().init() == ModelInit.RANDOM
    }

    def "mistakes name the recipe line, the bad value and the valid ones: #mistake"() {
        expect:
        problems(GOOD.replace(from, to)).contains(message)

        where:
        mistake                 | from                             | to                                  | message
        'an unknown template'   | "template: 'chatml'"             | "template: 'alpaca'"                | "r.groovy:4: model.task causalLm(template: 'alpaca') is not a template peft4j renders; valid: chatml, llama3"
        'an unknown init'       | "path 'models/lm'"               | "path 'models/lm'; init 'zeros'"    | "r.groovy:3: model.init 'zeros' is not valid; use 'pretrained' or 'random'"
        'mixed formats'         | "valid chats("                   | "valid texts("                      | 'data files are read as chats and texts; all splits of a run share one format'
        'only plain jsonl files'| "chats("                         | "jsonl("                            | "train chats('train.jsonl')"
        'a missing model'       | "path 'models/lm'"               | "path 'models/none'"                | "models/none' does not exist; it must be a Hugging Face model directory"
        'advice when missing'   | "path 'models/lm'"               | "path 'models/none'; ifMissing 'get it: make lm'" | "does not exist; get it: make lm"
        'random init of BERT'   | "task causalLm(template: 'chatml', prompts: ['Hi!', 'Sky?'], maxNewTokens: 12, packing: true)" | "init 'random'; task classification(labels: ['a', 'b'])" | "model.init 'random' trains a decoder from scratch and needs task causalLm(...)"
        'a zero token budget'   | 'maxNewTokens: 12'               | 'maxNewTokens: 0'                   | 'task causalLm(maxNewTokens: 0) must be in [1, 4096]'
    }
}
