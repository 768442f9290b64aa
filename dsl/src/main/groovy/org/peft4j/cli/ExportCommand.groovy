package org.peft4j.cli

import org.peft4j.peft.adalora.AdaLoraToLora
import picocli.CommandLine.Command
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Option
import picocli.CommandLine.Spec

import java.nio.file.Path
import java.util.concurrent.Callable

/**
 * Rewrites an adapter in another adapter format, with no model involved: today an AdaLoRA adapter as the plain LoRA
 * adapter it amounts to, which anything that serves LoRA loads. ('merge' instead folds an adapter into a model.)
 */
@Command(name = 'export', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['Rewrite an adapter directory in another adapter format; the base model is not needed.',
                '--to lora: an AdaLoRA adapter becomes a PEFT LoRA adapter (LoraConfig) that computes the same update:',
                'each module keeps its surviving triplets as a LoRA of that rank (rank_pattern), and modules pruned to',
                'rank 0 are left out of target_modules. Modules to save are copied.'],
        footer = ['', 'Examples:', '  peft4j export --adapter runs/spam-adalora/adapter --to lora --out runs/spam-adalora/lora-adapter',
                '', 'Exit codes: 0 written, 1 the export failed, 2 a usage mistake (missing directory, not an AdaLoRA adapter).'])
class ExportCommand implements Callable<Integer> {

    @Option(names = '--adapter', required = true, paramLabel = 'DIR', description = 'the adapter directory to rewrite')
    Path adapter

    @Option(names = '--to', required = true, paramLabel = 'FORMAT', description = 'the format to write: lora')
    String to

    @Option(names = '--out', required = true, paramLabel = 'DIR', description = 'the adapter directory to write; must not hold an adapter yet')
    Path out

    @Option(names = '--stacktrace', description = 'print the stack trace of an error')
    boolean stacktrace

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        if (to != 'lora') {
            throw new UserError("--to '${to}' is not a format peft4j exports to; valid: lora")
        }
        Models.modelDir(adapter, 'adapter')
        Map<String, Integer> ranks
        try {
            ranks = AdaLoraToLora.write(adapter, out)
        } catch (IllegalArgumentException e) {
            throw new UserError(e.message)
        } catch (IOException e) {
            throw new UserError(e.message)
        }
        int kept = ranks.values().count { it > 0 }
        PrintWriter w = spec.commandLine().out
        w.println("exported ${adapter} as LoRA to ${out}: ${kept} of ${ranks.size()} modules kept"
                + " (ranks ${ranks.values().findAll { it > 0 }.toSorted().unique().join(', ')}; "
                + "${ranks.size() - kept} pruned to 0 left out)")
        w.flush()
        0
    }
}
