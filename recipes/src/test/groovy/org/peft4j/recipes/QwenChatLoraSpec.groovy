package org.peft4j.recipes

import groovy.json.JsonSlurper
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * decoder/qwen-chat-lora.groovy needs the user's own checkpoint, which is not here: without it, it must say how to get
 * it; pointed at a stand-in (the from-scratch mail Llama, a Llama with a ChatML chat_template), it must run as written.
 */
class QwenChatLoraSpec extends Specification {

    static final String RECIPE = 'decoder/qwen-chat-lora.groovy'

    @Shared @TempDir
    Path tmp
    @Shared
    Path standIn = ShortScratchRun.dir().resolve('model')

    def "without the checkpoint, check exits 2 with the download command and how to point elsewhere"() {
        when:
        Peft4j c = Peft4j.run(['check', RECIPE, '--set', "model.path=${tmp.resolve('Qwen2.5-0.5B-Instruct')}".toString()])

        then:
        c.code == 2
        c.err.toString().contains('does not exist; download it: huggingface-cli download Qwen/Qwen2.5-0.5B-Instruct --local-dir models/Qwen2.5-0.5B-Instruct')
        c.err.toString().contains('--set model.path=')
    }

    def "with a checkpoint, LoRA goes on q_proj and v_proj of every layer and only the assistant turns are learned"() {
        given: "the stand-in tokenizes one character per token; an answer is its characters and <|im_end|>"
        List<Map> rows = Files.readAllLines(Path.of('data/mail/chats-train.jsonl')).take(12).collect { new JsonSlurper().parseText(it) as Map }
        long learned = rows.sum { Map r -> ((List<Map>) r.messages).findAll { it.role == 'assistant' }.sum { ((String) it.content).length() + 1 } } as long

        when:
        Peft4j c = Peft4j.run(['check', RECIPE, '--quiet', '--set', "model.path=${standIn}".toString(), '--set', 'data.limit=12',
                               '--set', 'data.maxLength=512'])
        String out = c.out.toString()
        // check's data table: split, examples, tokens, learned, truncated, dropped
        def m = out =~ /(?m)^\s+train\s+12\s+\d+\s+(\d+)\s+0\s+0$/

        then:
        c.code == 0
        out.contains('adapted    8 modules')
        (0..3).every { out.contains("model.layers.${it}.self_attn.q_proj") && out.contains("model.layers.${it}.self_attn.v_proj") }
        m.find()
        m.group(1) as long == learned
    }

    def "with a checkpoint, a shortened run saves a CAUSAL_LM adapter on q_proj and v_proj"() {
        given:
        Path run = tmp.resolve('run')
        Path valid = tmp.resolve('valid.jsonl')
        Files.write(valid, Files.readAllLines(Path.of('data/mail/chats-valid.jsonl')).take(4))

        when: "the stand-in reads one token per character, so a chat needs more than the recipe's 256 positions"
        Peft4j p = Peft4j.run(['run', RECIPE, '--out', run.toString(), '--quiet', '--set', "model.path=${standIn}".toString(),
                               '--set', 'data.maxLength=512', '--set', 'data.limit=32', '--set', "data.valid=${valid}".toString()])
        Map config = new JsonSlurper().parse(run.resolve('adapter/adapter_config.json').toFile()) as Map
        Map summary = new JsonSlurper().parse(run.resolve('summary.json').toFile()) as Map

        then: "32 chats in batches of 4 with 4 accumulated: 2 optimizer steps"
        p.code == 0
        config.task_type == 'CAUSAL_LM'
        (config.target_modules as Set) == ['q_proj', 'v_proj'] as Set
        summary.steps == 2
        summary.generations.size() == 2
    }
}
