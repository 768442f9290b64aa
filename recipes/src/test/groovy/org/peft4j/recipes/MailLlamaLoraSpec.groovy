package org.peft4j.recipes

import groovy.json.JsonSlurper
import org.peft4j.io.SafeTensors
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** decoder/mail-llama-lora.groovy: LoRA instruction tuning of the from-scratch mail Llama, ChatML from its tokenizer config. */
class MailLlamaLoraSpec extends Specification {

    static final String RECIPE = 'decoder/mail-llama-lora.groovy'
    static final List<String> MODULES = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj',
                                         'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj']
    static final int LAYERS = 4, R = 16, H = 192, I = 512

    @Shared @TempDir
    Path tmp
    @Shared
    Path base
    @Shared
    Path run
    @Shared
    Peft4j p
    @Shared
    Map summary

    def setupSpec() {
        base = ShortScratchRun.dir().resolve('model')
        run = tmp.resolve('lora')
        Path valid = tmp.resolve('valid.jsonl')
        Files.write(valid, Files.readAllLines(Path.of('data/mail/instructions-valid.jsonl')).take(8))
        p = Peft4j.run(['run', RECIPE, '--out', run.toString(), '--set', "model.path=${base}".toString(),
                        '--set', 'train.maxSteps=6', '--set', 'data.limit=96', '--set', "data.valid=${valid}".toString()])
        summary = new JsonSlurper().parse(run.resolve('summary.json').toFile()) as Map
    }

    def "without the scratch model, check says to train it first and how"() {
        when:
        Peft4j c = Peft4j.run(['check', RECIPE, '--set', "model.path=${tmp.resolve('absent')}".toString()])

        then:
        c.code == 2
        c.err.toString().contains("model.path '${tmp.resolve('absent')}' does not exist; train it first: ./peft4j run recipes/decoder/mail-llama-scratch.groovy")
    }

    def "only the answers are learned: each ChatML answer's characters and its <|im_end|>, nothing of the prompt"() {
        given: "one token per character; the learned segment is output + <|im_end|> (a single added token)"
        List<Map> rows = Files.readAllLines(Path.of('data/mail/instructions-train.jsonl')).take(20).collect { new JsonSlurper().parseText(it) as Map }
        long learned = rows.sum { ((String) it.output).length() + 1 } as long
        // <|im_start|>user\n + instruction \n\n input <|im_end|>\n <|im_start|>assistant\n + output <|im_end|> \n
        long tokens = rows.sum { 1 + 5 + it.instruction.length() + 2 + it.input.length() + 1 + 1 + 1 + 10 + it.output.length() + 1 + 1 } as long

        when:
        Peft4j c = Peft4j.run(['check', RECIPE, '--quiet', '--set', "model.path=${base}".toString(), '--set', 'data.limit=20', '--set', 'data.maxLength=512'])
        // check's data table: split, examples, tokens, learned, truncated, dropped
        def m = c.out.toString() =~ /(?m)^\s+train\s+20\s+(\d+)\s+(\d+)\s+0\s+0$/

        then:
        c.code == 0
        m.find()
        m.group(1) as long == tokens
        m.group(2) as long == learned
    }

    def "LoRA goes on all seven projections of every layer; an unknown target lists the Llama names that exist"() {
        when:
        Peft4j c = Peft4j.run(['check', RECIPE, '--quiet', '--set', "model.path=${base}".toString(), '--set', 'data.limit=8'])
        Peft4j bad = Peft4j.run(['check', RECIPE, '--quiet', '--set', "model.path=${base}".toString(), '--set', 'lora.target=qproj'])

        then:
        c.code == 0
        c.out.toString().contains("adapted    ${LAYERS * MODULES.size()} modules")
        bad.code == 2
        ['q_proj', 'v_proj', 'gate_proj', 'down_proj'].every { bad.err.toString().contains(it) }
    }

    def "the adapter is saved in PEFT's layout for CAUSAL_LM with A (r × in) and B (out × r) for every adapted projection"() {
        given:
        Map config = new JsonSlurper().parse(run.resolve('adapter/adapter_config.json').toFile()) as Map
        Map<String, SafeTensors.Entry> tensors = SafeTensors.header(run.resolve('adapter/adapter_model.safetensors'))
        Map<String, List<Integer>> inOut = ['self_attn.q_proj': [H, H], 'self_attn.k_proj': [H, H], 'self_attn.v_proj': [H, H],
                                            'self_attn.o_proj': [H, H], 'mlp.gate_proj': [H, I], 'mlp.up_proj': [H, I], 'mlp.down_proj': [I, H]]

        expect:
        config.task_type == 'CAUSAL_LM'
        config.r == R
        (config.target_modules as Set) == MODULES.collect { it.split('\\.')[1] } as Set
        tensors.size() == 2 * LAYERS * MODULES.size()
        (0..<LAYERS).every { int l ->
            MODULES.every { String m ->
                def (int fin, int fout) = inOut[m]
                String k = "base_model.model.model.layers.${l}.${m}"
                tensors["${k}.lora_A.weight".toString()].shape() == [R, fin] as long[] &&
                        tensors["${k}.lora_B.weight".toString()].shape() == [fout, R] as long[]
            }
        }
    }

    def "the run lowers the answers' loss, and generates for every prompt before and after"() {
        expect:
        p.code == 0
        summary.valid.loss < summary.before.valid.loss
        summary.trainable_params == (long) R * LAYERS * (4 * (H + H) + 2 * (H + I) + (I + H))
        summary.generations.size() == 3
        summary.generations.every { it.before != null && it.after != null }
        p.out.toString().contains('prompt  Is this message spam or ham?')
    }

    def "generate with the saved adapter answers the ChatML prompt exactly as the run did"() {
        given:
        String prompt = summary.generations[0].prompt
        String chatml = "<|im_start|>user\n${prompt}<|im_end|>\n<|im_start|>assistant\n"

        when:
        Peft4j g = Peft4j.run(['generate', '--model', base.toString(), '--adapter', run.resolve('adapter').toString(),
                               '--prompt', chatml, '--max-new-tokens', '40', '--stop', '<|im_end|>'])

        then:
        g.code == 0
        g.out.toString() == summary.generations[0].after + System.lineSeparator()
    }
}
