package org.peft4j.recipes

import groovy.json.JsonSlurper
import org.peft4j.io.SafeTensors
import spock.lang.Shared
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Path

/** decoder/mail-llama-scratch.groovy: a Llama from its config.json with random weights, fully trained on mail text. */
class MailLlamaScratchSpec extends Specification {

    /** The shape in models/mail-llama/config.json. */
    static final int V = 101, H = 192, I = 512, L = 4

    @Shared
    Path run = ShortScratchRun.dir()
    @Shared
    String out = ShortScratchRun.result().out.toString()
    @Shared
    Map summary = new JsonSlurper().parse(run.resolve('summary.json').toFile()) as Map

    def "check plans a fully trained model whose size is the config's: tied embedding, 4 × (attention + SwiGLU + 2 norms), final norm"() {
        when:
        Peft4j p = Peft4j.run(['check', 'decoder/mail-llama-scratch.groovy', '--quiet', '--set', 'data.limit=10'])
        long params = V * H + L * (4L * H * H + 3L * H * I + 2 * H) + H

        then:
        p.code == 0
        p.out.toString().contains("parameters ${String.format('%,d', params)} trainable of ${String.format('%,d', params)} (100.000%)")
    }

    def "packed texts learn every character plus one end-of-text per mail, and nothing is truncated away"() {
        given: "one token per character (the data is ASCII) and one <|endoftext|> per mail"
        long expected = Files.readAllLines(Path.of('data/mail/train.jsonl')).take(10)
                .sum { new JsonSlurper().parseText(it).text.length() + 1 } as long

        when:
        Peft4j p = Peft4j.run(['check', 'decoder/mail-llama-scratch.groovy', '--quiet', '--set', 'data.limit=10'])
        // check's data table: split, examples, tokens, learned, truncated, dropped
        def m = p.out.toString() =~ /(?m)^\s+train\s+(\d+)\s+(\d+)\s+(\d+)\s+0\s+0$/

        then: "blocks of 128 tokens: all full but the last"
        m.find()
        m.group(2) as long == expected
        m.group(3) as long == expected
        m.group(1) as long == Math.ceil(expected / 128d) as long
    }

    def "the untrained model is near uniform (loss ln 101, σ = 0.02 weights), and a few full-training steps lower it"() {
        expect:
        Math.abs(summary.before.valid.loss - Math.log(V)) < 0.05
        summary.valid.loss < summary.before.valid.loss - 0.2
        Math.abs(summary.valid.perplexity - Math.exp(summary.valid.loss)) < 1e-6 * summary.valid.perplexity
        summary.steps == ShortScratchRun.STEPS
        summary.trainable_params == summary.total_params
    }

    def "the run prints and records a greedy generation for each prompt, before and after"() {
        expect:
        summary.generations*.prompt == ['Dear friend,', 'Hi all,\n', 'FREE']
        summary.generations.every { it.before != null && it.after != null }
        out.contains('valid loss') && out.contains('valid perplexity')
        out.contains('prompt  Dear friend,') && out.contains('before  ') && out.contains('after   ')
    }

    def "the saved model is a complete Hugging Face directory: generate loads it and continues a prompt as the run did"() {
        given:
        Path model = run.resolve('model')
        Map tensors = SafeTensors.header(model.resolve('model.safetensors'))

        when:
        Peft4j g = Peft4j.run(['generate', '--model', model.toString(), '--prompt', 'Dear friend,', '--max-new-tokens', '80'])

        then:
        ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'].every { Files.isRegularFile(model.resolve(it)) }
        tensors.keySet().contains('model.embed_tokens.weight') && !tensors.keySet().contains('lm_head.weight')
        g.code == 0
        g.out.toString() == summary.generations[0].after + System.lineSeparator()
    }
}
