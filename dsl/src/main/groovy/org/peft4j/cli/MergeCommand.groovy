package org.peft4j.cli

import org.peft4j.export.MergedExport
import org.peft4j.run.HeadLabels
import org.peft4j.run.MergeDifference
import picocli.CommandLine.Command
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Option
import picocli.CommandLine.Spec

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.Callable

/**
 * The offline merge: base model + LoRA or AdaLoRA adapter → a complete Hugging Face directory that needs no adapter
 * code. A classification adapter gives the family's Transformers classifier with its labels (a mean-pooled one,
 * sentence-transformers' layout); otherwise a decoder keeps its checkpoint's tensor names, and an embedding adapter
 * gives the encoder itself.
 */
@Command(name = 'merge', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['Merge a LoRA or AdaLoRA adapter (by adapter_config.json\'s peft_type) into its base model (W + ΔW)',
                'and write a complete Hugging Face directory (config.json, model.safetensors with every base weight, tokenizer',
                'files, chat template, generation config) that loads without peft4j. A classification adapter (task SEQ_CLS,',
                'a saved head, or --labels) gives the classifier AutoModelForSequenceClassification loads with the same logits',
                '(every family\'s own head), with its labels; a head on the mean of the token states, which no',
                'Transformers class computes, is written in sentence-transformers\' layout (its encode() gives the logits).',
                'Otherwise a decoder (${sys:peft4j.help.decoder-model-types}) keeps the base checkpoint\'s tensor names and',
                'layouts, in f32, and an embedding adapter gives the encoder itself. An adapter that does not fit the model is',
                'refused before anything is written. The merged',
                'directory is then loaded and its outputs compared with base + adapter on a few texts; the largest difference',
                'is printed.'],
        footer = ['', 'Examples:', '  peft4j merge --model minilm --adapter runs/quickstart/adapter --out merged   # labels from the adapter\'s head_config.json',
                '  peft4j merge --model minilm --adapter runs/quickstart/adapter --out merged --labels ham,spam',
                '  peft4j merge --model ~/models/bert-base-uncased --adapter runs/x/adapter --out runs/x/merged',
                '  peft4j merge --model ~/models/Qwen2-0.5B --adapter runs/chat/adapter --out runs/chat/merged',
                '', 'Exit codes: 0 written, 1 the merge failed, 2 a usage mistake (missing directory, adapter that does not fit).'])
class MergeCommand implements Callable<Integer> {

    @Option(names = '--model', required = true, paramLabel = 'MODEL', description = "'minilm' (embedded) or a Hugging Face model directory")
    String model

    @Option(names = '--adapter', required = true, paramLabel = 'DIR', description = 'the adapter directory (a run directory\'s adapter/)')
    Path adapter

    @Option(names = '--out', required = true, paramLabel = 'DIR', description = 'the merged model directory to write; must not hold a model yet')
    Path out

    @Option(names = '--labels', split = ',', paramLabel = 'NAME',
            description = 'class names in class-id order, written to config.json (default: the adapter\'s head_config.json, which a run saves, else LABEL_k for each output of its classifier); classifiers only')
    List<String> labels

    @Option(names = '--stacktrace', description = 'print the stack trace of an error')
    boolean stacktrace

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        // MergedExport refuses a used --out too, but only after loading the model; say so at once
        if (Files.exists(out) && (!Files.isDirectory(out) || Files.list(out).withCloseable { it.findAny().present })) {
            throw new UserError("${out}: already exists and is not empty; choose another --out")
        }
        Path modelDir = Models.directory(model)
        Models.modelDir(adapter, 'adapter')
        // the class names a run saved beside its adapter, unless given
        List<String> names = labels ?: HeadLabels.read(adapter)
        MergeDifference check
        try {
            MergedExport.merge(modelDir, adapter, out, names)
            check = MergeCheck.of(modelDir, adapter, out, names)
        } catch (IllegalArgumentException e) {
            // both exports report an adapter that does not fit, or unknown classes, this way: the user's inputs
            throw new UserError(e.message)
        }
        PrintWriter w = spec.commandLine().out
        w.println("merged ${adapter} into ${model}: ${out}${names ? " (labels ${names.join(', ')})" : ''}")
        w.println("merged − unmerged: largest output difference ${check.describe()}")
        w.flush()
        if (!check.acceptable(false)) {
            throw new IllegalStateException("the merged model's outputs differ from base + adapter by more than " +
                    "${String.format('%.0e', MergeDifference.tolerance(false))} × max(1, largest |logit|); do not use ${out}")
        }
        0
    }
}
