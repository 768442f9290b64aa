package org.peft4j.cli

import groovy.json.JsonOutput
import org.peft4j.data.Shard
import org.peft4j.dist.ProcessGroup
import org.peft4j.embedding.PoolingMode
import org.peft4j.embedding.SentenceEncoder
import org.peft4j.run.Embedder
import org.peft4j.run.PartFiles
import picocli.CommandLine.Command
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Option
import picocli.CommandLine.Spec

import java.nio.charset.StandardCharsets
import java.nio.file.Path
import java.util.concurrent.Callable

/** Sentence vectors of a file of texts: pooled token states, L2-normalised. */
@Command(name = 'embed', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['Embed every text of a JSONL file (or every non-blank line of a text file) with a sentence encoder and',
                'write one JSON object per line: {"line": N[, "id": ...], "embedding": [...]}. Vectors have unit L2 norm,',
                'so the dot product of two is their cosine similarity. "id" is copied from the input object when it has one.'],
        footer = ['', 'Examples:', '  peft4j embed --model minilm --input docs.jsonl --out docs-vectors.jsonl',
                '  peft4j embed --model minilm --adapter runs/simcse/adapter --input faq.txt --out faq.jsonl --pooling mean',
                '  peft4j embed --model ~/models/bge-small-en --input q.jsonl --field query --out q-vectors.jsonl --pooling cls',
                '', 'Exit codes: 0 written, 1 embedding failed, 2 a usage or input mistake (missing file, bad line, adapter that does not fit).'])
class EmbedCommand implements Callable<Integer> {

    @Option(names = '--model', required = true, paramLabel = 'MODEL', description = "'minilm' or 'bge-small-en' (embedded), or an encoder's Hugging Face directory (BERT, RoBERTa, ModernBERT, DeBERTa-v2)")
    String model

    @Option(names = '--adapter', paramLabel = 'DIR', description = 'a PEFT LoRA or AdaLoRA adapter directory to apply to the encoder')
    Path adapter

    @Option(names = '--input', required = true, paramLabel = 'FILE', description = 'JSONL (*.jsonl) with a text field, or one text per non-blank line')
    Path input

    @Option(names = '--out', required = true, paramLabel = 'FILE', description = 'the JSONL file to write (written whole or not at all)')
    Path output

    @Option(names = '--field', paramLabel = 'NAME', defaultValue = 'text', description = 'the JSONL field holding the text (default: ${DEFAULT-VALUE})')
    String field

    @Option(names = '--pooling', paramLabel = 'MODE', defaultValue = 'mean',
            description = 'mean (of the real tokens; MiniLM\'s training) or cls (the first token) (default: ${DEFAULT-VALUE})')
    String pooling

    @Option(names = '--max-length', paramLabel = 'N', defaultValue = '256', description = 'tokens per text, longer ones are cut (default: ${DEFAULT-VALUE})')
    int maxLength

    @Option(names = '--batch-size', paramLabel = 'N', defaultValue = '64', description = 'texts per forward pass (default: ${DEFAULT-VALUE})')
    int batchSize

    @Option(names = '--nproc', paramLabel = 'N', description = ['run as N workers on this machine, each with a block of the inputs',
            'and its share of the cores; rank 0 joins their parts into --out (docs/distributed-batch.md)'])
    Integer nproc

    @Option(names = '--stacktrace', description = 'print the stack trace of an error')
    boolean stacktrace

    @Spec
    CommandSpec spec

    /** The workers to shard among; null: those torchrun's variables describe, or this process alone. */
    ProcessGroup group

    @Override
    Integer call() {
        PoolingMode mode = Encoders.pooling(pooling)
        if (batchSize < 1) {
            throw new UserError("--batch-size must be at least 1, got ${batchSize}")
        }
        Integer launched = Workers.launch(nproc, spec)
        if (launched != null) {
            return launched
        }
        List<TextInputs.Line> all = TextInputs.read(input, field)
        Path modelDir = Models.directory(model)
        ProcessGroup workers = Workers.join(group)
        try {
            // this worker's block of the texts; alone, all of them
            Shard shard = new Shard(workers.world().rank(), workers.world().worldSize())
            List<TextInputs.Line> lines = all.subList(shard.from(all.size()), shard.to(all.size()))
            SentenceEncoder encoder = Encoders.load(modelDir, adapter, mode, spec.commandLine().err)
            float[][] vectors = new Embedder(encoder, Encoders.tokenizer(modelDir, encoder, maxLength)).withCloseable {
                it.embed(lines*.text, batchSize)
            }
            PartFiles.write(workers, output) { OutputStream os ->
                Writer w = new OutputStreamWriter(os, StandardCharsets.UTF_8)
                lines.eachWithIndex { TextInputs.Line line, int i ->
                    Map row = [line: line.number]
                    if (line.id != null) {
                        row.id = line.id
                    }
                    row.embedding = vectors[i]
                    w.write(JsonOutput.toJson(row))
                    w.write('\n')
                }
                w.flush()
            }
            if (workers.world().main()) {
                int width = vectors[0].length   // rank 0's block is never empty: it is the largest
                PrintWriter out = spec.commandLine().out
                out.println("embedded ${all.size()} texts of ${input} into ${output} (${width} dimensions, ${mode.name().toLowerCase(Locale.ROOT)} pooling)")
                out.flush()
            }
        } finally {
            Workers.leave(workers, group)
        }
        0
    }
}
