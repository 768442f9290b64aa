package org.peft4j.cli

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import groovy.json.JsonOutput
import org.peft4j.data.CausalLmTokenizer
import org.peft4j.data.Shard
import org.peft4j.dist.ProcessGroup
import org.peft4j.models.core.CausalLm
import org.peft4j.models.CausalLmLoss
import org.peft4j.run.PartFiles
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import picocli.CommandLine.Command
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Option
import picocli.CommandLine.Spec

import java.nio.file.Path
import java.util.concurrent.Callable

/** Per-line and corpus negative log-likelihood of a text file under a causal LM, for comparison with other implementations. */
@Command(name = 'perplexity', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['Score every line of a text file (or the "text" field of a JSONL file) with a causal language model.',
                'Per line: the mean negative log-likelihood (natural log) of tokens 2..t, each predicted from the ones',
                'before it (the first token is not scored; no special tokens are added), and its perplexity exp(nll):',
                '  {"line": N, "tokens": t, "nll": x, "ppl": y}   (nll and ppl are null for a line of one token)',
                'Then the corpus mean, weighted by scored tokens: nll = sum(nll_i * (t_i - 1)) / sum(t_i - 1), ppl = exp(nll).'],
        footer = ['', 'Examples:', '  peft4j perplexity --model ~/models/gpt2 --input wiki.txt --out wiki-ppl.jsonl',
                '  peft4j perplexity --model ~/models/Qwen2-0.5B --adapter runs/chat/adapter --input eval.jsonl --max-length 512',
                '', 'Exit codes: 0 scored, 1 scoring failed, 2 a usage or input mistake (missing file, bad line, unsupported model).'])
class PerplexityCommand implements Callable<Integer> {

    @Option(names = '--model', required = true, paramLabel = 'DIR', description = 'a Hugging Face decoder directory (${sys:peft4j.help.decoder-model-types})')
    Path model

    @Option(names = '--adapter', paramLabel = 'DIR', description = 'a PEFT LoRA or AdaLoRA adapter directory to apply to the model')
    Path adapter

    @Option(names = '--input', required = true, paramLabel = 'FILE', description = 'one text per non-blank line, or JSONL (*.jsonl) with a text field')
    Path input

    @Option(names = '--field', paramLabel = 'NAME', defaultValue = 'text', description = 'the JSONL field holding the text (default: ${DEFAULT-VALUE})')
    String field

    @Option(names = '--out', paramLabel = 'FILE', description = 'write the per-line JSONL here (written whole or not at all); default: stdout')
    Path output

    @Option(names = '--max-length', paramLabel = 'N', defaultValue = '0',
            description = 'keep the first N tokens of a line; 0: the model\'s position limit (default: ${DEFAULT-VALUE})')
    int maxLength

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
        if (maxLength < 0 || maxLength == 1) {
            throw new UserError("--max-length must be 0 (the model's limit) or at least 2, got ${maxLength}")
        }
        if (nproc != null && nproc > 1 && output == null) {
            throw new UserError("perplexity --nproc ${nproc} needs --out FILE: the workers' per-line rows are joined in a file, not on the terminal")
        }
        Integer launched = Workers.launch(nproc, spec)
        if (launched != null) {
            return launched
        }
        List<TextInputs.Line> all = TextInputs.read(input, field)
        ProcessGroup workers = Workers.join(group)
        try {
            if (output == null && workers.world().distributed()) {
                throw new UserError("perplexity with WORLD_SIZE ${workers.world().worldSize()} needs --out FILE: the workers'" +
                        ' per-line rows are joined in a file, not on the terminal')
            }
            Shard shard = new Shard(workers.world().rank(), workers.world().worldSize())
            List<TextInputs.Line> lines = all.subList(shard.from(all.size()), shard.to(all.size()))
            CausalLm lm = LanguageModels.load(model, adapter)
            int limit = maxLength == 0 ? lm.maxPositions() : Math.min(maxLength, lm.maxPositions())
            List<String> rows = []
            double nllSum = 0
            long scored = 0
            CausalLmTokenizer tokenizer = LanguageModels.tokenizer(model)
            try {
                NDManager manager = Backend.get().manager()
                for (TextInputs.Line line : lines) {
                    int[] ids = tokenizer.encode(line.text)
                    if (ids.length > limit) {
                        ids = Arrays.copyOf(ids, limit)
                    }
                    Double nll = ids.length < 2 ? null : meanNll(lm, manager, ids)
                    if (nll != null) {
                        nllSum += nll * (ids.length - 1)
                        scored += ids.length - 1
                    }
                    rows << JsonOutput.toJson([line: line.number, tokens: ids.length, nll: nll,
                                               ppl : nll == null ? null : CausalLmLoss.perplexity(nll)])
                }
            } finally {
                tokenizer.close()
            }
            PrintWriter out = spec.commandLine().out
            if (output == null) {
                rows.each { out.println(it) }
            } else {
                PartFiles.write(workers, output) { OutputStream os -> os.write(rows.collect { it + '\n' }.join('').getBytes('UTF-8')) }
            }
            // the corpus figures are sums over every worker's lines
            double[] sums = workers.allReduceSum(nllSum, scored)
            nllSum = sums[0]
            scored = Math.round(sums[1])
            if (workers.world().main()) {
                report(out, all.size(), nllSum, scored)
            }
        } finally {
            Workers.leave(workers, group)
        }
        0
    }

    private void report(PrintWriter out, int lines, double nllSum, long scored) {
        if (scored == 0) {
            out.println("${lines} lines, no scored tokens: every line has fewer than 2 tokens")
        } else {
            double mean = nllSum / scored
            out.println(String.format(Locale.ROOT, 'corpus: %d lines, %d scored tokens, mean nll %.6f, perplexity %.4f%s',
                    lines, scored, mean, CausalLmLoss.perplexity(mean), output == null ? '' : " (per line: ${output})"))
        }
        out.flush()
    }

    /** CausalLmLoss over the unshifted ids: logits at t scored against id t + 1, so t - 1 predictions. */
    private static double meanNll(CausalLm lm, NDManager manager, int[] ids) {
        try (StepScope scope = new StepScope()) {
            NDArray input = manager.create(ids.collect { it as long } as long[]).reshape(1, ids.length)
            NDArray logits = lm.forward(input, null, null, null)
            // float64 for the log-softmax, so that the printed digits are the model's, not float32 rounding
            return CausalLmLoss.loss(logits.toType(ai.djl.ndarray.types.DataType.FLOAT64, false), input).getDouble()
        }
    }
}
