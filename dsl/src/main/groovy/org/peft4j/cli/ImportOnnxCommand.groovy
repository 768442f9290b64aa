package org.peft4j.cli

import org.peft4j.models.EmbeddedModels
import org.peft4j.models.ModelSpec
import picocli.CommandLine.ArgGroup
import picocli.CommandLine.Command
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Option
import picocli.CommandLine.Spec

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.Callable

/** Turns an ONNX BERT export into a Hugging Face directory peft4j trains from, or (re)imports the embedded model. */
@Command(name = 'import-onnx', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['Import an ONNX export of a BERT encoder and its tokenizer.json into a new Hugging Face directory',
                '(config.json, model.safetensors, tokenizer.json), or with --embedded import an embedded model into',
                'the cache ($PEFT4J_HOME, else ~/.cache/peft4j) and print where it is. A complete import in the cache is',
                'reused; an interrupted or partial one is imported again.'],
        footer = ['', 'Examples:', '  peft4j import-onnx --onnx model.onnx --tokenizer tokenizer.json --out models/my-bert',
                '  peft4j import-onnx --embedded minilm',
                '', 'Exit codes: 0 imported, 1 the import failed, 2 a usage mistake (missing file, unknown name).'])
class ImportOnnxCommand implements Callable<Integer> {

    @ArgGroup(exclusive = true, multiplicity = '1')
    Source source

    static class Source {
        @ArgGroup(exclusive = false)
        FromFile file

        @Option(names = '--embedded', paramLabel = 'NAME', description = 'an embedded model to import into the cache: ${COMPLETION-CANDIDATES}',
                completionCandidates = EmbeddedNames)
        String embedded
    }

    static class FromFile {
        @Option(names = '--onnx', required = true, paramLabel = 'FILE', description = 'the ONNX model file')
        Path onnx

        @Option(names = '--tokenizer', required = true, paramLabel = 'FILE', description = 'its Hugging Face tokenizer.json')
        Path tokenizer

        @Option(names = '--out', required = true, paramLabel = 'DIR', description = 'the directory to create')
        Path out
    }

    static class EmbeddedNames implements Iterable<String> {
        @Override
        Iterator<String> iterator() {
            ModelSpec.EMBEDDED.iterator()
        }
    }

    @Option(names = '--stacktrace', description = 'print the stack trace of an error')
    boolean stacktrace

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        Path dir
        if (source.embedded != null) {
            if (!ModelSpec.EMBEDDED.contains(source.embedded)) {
                throw new UserError("'${source.embedded}' is not an embedded model; valid: ${ModelSpec.EMBEDDED.join(', ')}")
            }
            // resolve() imports once and then reuses the cache, which it checks for completeness first
            dir = EmbeddedModels.resolve(source.embedded)
        } else {
            FromFile f = source.file
            Models.inputFile(f.onnx, 'ONNX')
            Models.inputFile(f.tokenizer, 'tokenizer')
            if (Files.exists(f.out) && (!Files.isDirectory(f.out) || Files.list(f.out).withCloseable { it.findAny().present })) {
                throw new UserError("${f.out}: already exists and is not empty; give a new directory")
            }
            dir = EmbeddedModels.importOnnx(f.onnx, f.tokenizer, f.out)
        }
        PrintWriter w = spec.commandLine().out
        w.println(dir.toAbsolutePath())
        w.flush()
        0
    }
}
