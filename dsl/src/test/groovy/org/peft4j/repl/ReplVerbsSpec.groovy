package org.peft4j.repl

import org.peft4j.cli.ReplCommand
import org.peft4j.cli.TinyCausalLmDir
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** The verbs on an AdaLoRA classifier and on a tiny decoder, driven as a script through stdin. */
class ReplVerbsSpec extends Specification {

    @Shared @TempDir
    Path dir

    def setupSpec() {
        Files.write(dir.resolve('train.jsonl'), Files.readAllLines(Path.of('../recipes/data/spam/train.jsonl')).take(32))
        Files.writeString(dir.resolve('lm.jsonl'), '{"text": "the cat sat."}\n{"text": "a dog ran."}\n')
        TinyCausalLmDir.write(dir.resolve('lm'), 5)
    }

    private static String drive(String script) {
        StringWriter out = new StringWriter()
        new Repl(new ReplCommand().context(new PrintWriter(out), false)).plain(new BufferedReader(new StringReader(script)))
        out.toString()
    }

    def "an inline AdaLoRA recipe plans, trains 2 of 4 steps, prints its ranks and a tensor, saves and merges"() {
        when:
        String out = drive("""\
ada = recipe '''
recipe 'ada'
model { source 'minilm'; task classification(labels: ['ham', 'spam']) }
adalora { initR 4; targetR 2; tinit 1; tfinal 1; deltaT 1; target 'query', 'value'; modulesToSave 'classifier' }
data { train jsonl('${dir}/train.jsonl'); maxLength 16 }
optimizer adamW(lr: 2e-3)
train { batchSize 8; maxSteps 4 }
'''
ada
FineTune.plan(ada.config, TrainingListener.NONE)
s = train ada, steps: 2, evalBefore: false, out: '${dir}/runs/ada'
s.ranks
s.model['bert.encoder.layer.0.attention.self.query.lora_E'].value()
merge s, '${dir}/merged'
""")

        then:
        out.contains('recipe ada (inline-1.groovy)')
        out.contains('  adalora.initR = 4')
        out =~ /budget\s+48 triplets until step 1/
        out.contains('step 2/4') && !out.contains('step 3/4')
        out =~ /(?m)^layer\s+attention\.self\.query\s+attention\.self\.value\s+sum$/
        out =~ /(?m)^0\s+\d\/4\s+\d\/4\s+\d$/
        out =~ /===> tensor \[4, 1\] float32 cpu\(\) \[-?\d\.\d{4}, /
        out.contains('run directory')
        out =~ /merged − unmerged: largest output difference \d/
        Files.exists(dir.resolve('merged/model.safetensors'))
        Files.exists(dir.resolve('runs/ada/adapter/adapter_model.safetensors'))
        !out.contains('error')
    }

    def "a decoder generates; predict says it is for classifiers; :load runs a file's lines"() {
        given:
        Files.writeString(dir.resolve('more.groovy'), 'generate d, "the ca", maxNewTokens: 3\n[1, 2].sum()\n')

        when:
        String out = drive("""\
dec = recipe '''
model { path '${dir}/lm'; task causalLm() }
lora { r 2; target 'q_proj', 'v_proj' }
data { train texts('${dir}/lm.jsonl'); maxLength 16 }
train { batchSize 2; maxSteps 2 }
'''
d = train dec, out: '${dir}/runs/lm'
generate d, 'the ca', maxNewTokens: 4
predict d, 'x'
:load ${dir}/more.groovy
""")

        then:
        out =~ /===> [a-z .]{1,4}\n/
        out.contains('error: predict is for classification runs; this run\'s task is CAUSAL_LM')
        out.contains('===> 3')
    }
}
