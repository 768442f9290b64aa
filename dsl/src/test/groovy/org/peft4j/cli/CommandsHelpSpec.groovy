package org.peft4j.cli

import org.peft4j.models.Registry
import org.peft4j.models.core.Task
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** The commands' help, usage mistakes and missing files: fast, and no model is loaded (the cached import is only found). */
class CommandsHelpSpec extends Specification {

    @TempDir
    Path dir

    def "#command --help exits 0 and shows an example"() {
        when:
        Cli c = Cli.run(command, '--help')

        then:
        c.code == 0
        c.out.toString().contains('Examples:')
        c.out.toString().contains(example)
        c.out.toString().contains('Exit codes: 0')

        where:
        command       | example
        'inspect'     | 'peft4j inspect minilm --recipe recipes/quickstart.groovy'
        'merge'       | 'peft4j merge --model minilm --adapter runs/quickstart/adapter --out merged --labels ham,spam'
        'predict'     | 'peft4j predict --model merged --input mail.jsonl --out predictions.jsonl'
        'bench'       | 'peft4j bench --batch 8 --seq 64 --threads 2 --json bench-results.json'
        'import-onnx' | 'peft4j import-onnx --embedded minilm'
    }

    def "#command --help names every decoder model_type the Registry serves, in one line"() {
        when:
        String help = Cli.run(command, '--help').out.toString().replaceAll(/\s+/, ' ')

        then:
        help.contains(Registry.modelTypes(Task.Kind.CAUSAL_LM).join(', '))
        help.contains('gemma3_text, smollm3')
        !help.contains('${sys:')

        where:
        command << ['generate', 'perplexity', 'merge']
    }

    def "the top-level help lists the new commands"() {
        expect:
        ['inspect', 'merge', 'predict', 'bench', 'import-onnx'].every { Cli.run('--help').out.toString().contains(it) }
    }

    def "predict with a missing input file exits 2 and names the file, without a stack trace"() {
        given:
        Path missing = dir.resolve('nope.jsonl')

        when:
        Cli c = Cli.run('predict', '--model', 'minilm', '--input', missing.toString(), '--out', dir.resolve('p.jsonl').toString())

        then:
        c.code == 2
        c.err.toString().trim() == "${missing}: no such input file"
        c.out.toString().isEmpty()
    }

    def "import-onnx --embedded minilm prints the cached Hugging Face directory"() {
        when:
        Cli c = Cli.run('import-onnx', '--embedded', 'minilm')

        then:
        c.code == 0
        Path printed = Path.of(c.out.toString().trim())
        printed == org.peft4j.models.EmbeddedModels.resolve('minilm').toAbsolutePath()
        ['config.json', 'model.safetensors', 'tokenizer.json'].every { java.nio.file.Files.isRegularFile(printed.resolve(it)) }
    }

    def "#args is a usage mistake with exit code 2: #text"() {
        when:
        Cli c = Cli.run(args as String[])

        then:
        c.code == 2
        c.err.toString().contains(text)
        !c.err.toString().contains('\tat ')

        where:
        args                                                                   | text
        ['merge', '--model', 'minilm', '--out', 'x']                           | "Missing required option: '--adapter=DIR'"
        ['inspect']                                                            | "Missing required parameter: 'MODEL'"
        ['inspect', '/no/such/model']                                          | '/no/such/model: no such model directory'
        ['merge', '--model', '/no/such/model', '--adapter', 'a', '--out', 'o'] | '/no/such/model: no such model directory'
        ['import-onnx', '--onnx', '/no/m.onnx', '--tokenizer', '/no/t.json', '--out', '/tmp/x'] | '/no/m.onnx: no such ONNX file'
        ['import-onnx', '--embedded', 'gpt5']                                  | "'gpt5' is not an embedded model; valid: minilm"
        ['import-onnx', '--embedded', 'minilm', '--onnx', 'm', '--tokenizer', 't', '--out', 'o'] | 'mutually exclusive'
        ['bench', '--batch', '0', '--repeats', '0']                            | '--batch must be at least 1, got 0'
    }
}
