package org.peft4j.cli

import org.peft4j.data.DataFileException
import org.peft4j.dist.ProcessGroup
import org.peft4j.run.Predictor
import picocli.CommandLine.Command
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Option
import picocli.CommandLine.Spec

import java.nio.file.Path
import java.util.concurrent.Callable

/** Classifies a JSONL file with a model, its adapter optional: one line of logits and label per input line. */
@Command(name = 'predict', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['Classify every line of a JSONL file and write one JSON object per line:',
                '{"line": N, "logits": [...], "label": "..."}. The model is a merged export, or a base model with --adapter.'],
        footer = ['', 'Examples:', '  peft4j predict --model merged --input mail.jsonl --out predictions.jsonl',
                '  peft4j predict --model minilm --adapter runs/quickstart/adapter \\',
                '      --input recipes/data/spam/test.jsonl --out test-predictions.jsonl --max-length 128',
                '', 'Exit codes: 0 written, 1 prediction failed, 2 a usage or input mistake (missing file, bad line).'])
class PredictCommand implements Callable<Integer> {

    @Option(names = '--model', required = true, paramLabel = 'MODEL', description = "'minilm' (embedded) or a Hugging Face model directory")
    String model

    @Option(names = '--adapter', paramLabel = 'DIR', description = 'an adapter directory to apply to the model')
    Path adapter

    @Option(names = '--input', required = true, paramLabel = 'FILE', description = 'the JSONL file to classify')
    Path input

    @Option(names = '--out', required = true, paramLabel = 'FILE', description = 'the JSONL file to write (written whole or not at all)')
    Path output

    @Option(names = '--text-field', paramLabel = 'NAME', defaultValue = 'text', description = 'the JSON field holding the text (default: ${DEFAULT-VALUE})')
    String textField

    @Option(names = '--max-length', paramLabel = 'N', defaultValue = '128',
            description = 'tokens per text, longer ones are cut; use the training\'s data.maxLength; 0 for the model\'s limit (default: ${DEFAULT-VALUE})')
    int maxLength

    @Option(names = '--batch-size', paramLabel = 'N', defaultValue = '64', description = 'texts per forward pass (default: ${DEFAULT-VALUE})')
    int batchSize

    @Option(names = '--labels', split = ',', paramLabel = 'NAME',
            description = 'class names in class-id order (default: the adapter\'s head_config.json, which a run saves, else config.json\'s id2label, else LABEL_k)')
    List<String> labels

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
        // the cheap checks before the model loads
        Models.inputFile(input, 'input')
        if (batchSize < 1 || maxLength < 0) {
            throw new UserError("--batch-size must be at least 1 and --max-length at least 0; got ${batchSize} and ${maxLength}")
        }
        Integer launched = Workers.launch(nproc, spec)
        if (launched != null) {
            return launched
        }
        Path modelDir = Models.directory(model)
        if (adapter != null) {
            Models.modelDir(adapter, 'adapter')
        }
        ProcessGroup workers = Workers.join(group)
        try {
            Predictor predictor
            try {
                predictor = Predictor.open(modelDir, adapter, labels, maxLength)
            } catch (DataFileException e) {
                throw e
            } catch (IllegalArgumentException e) {
                // Predictor.open reports a model without a trained head, or labels that do not fit, this way
                throw new UserError(e.message)
            }
            long n = predictor.withCloseable { it.predict(input, output, textField, batchSize, workers) }
            if (workers.world().main()) {
                PrintWriter w = spec.commandLine().out
                w.println("classified ${n} lines of ${input} into ${output} (labels ${predictor.labels().join(', ')})")
                w.flush()
            }
        } finally {
            Workers.leave(workers, group)
        }
        0
    }
}
