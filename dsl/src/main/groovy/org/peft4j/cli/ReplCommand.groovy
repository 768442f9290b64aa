package org.peft4j.cli

import picocli.CommandLine.Command
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Spec

import java.util.concurrent.Callable

/** {@code peft4j repl}: an interactive shell over the runtime and the DSL. */
@Command(name = 'repl', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['An interactive Groovy shell with the peft4j runtime and DSL imported: load a model, apply LoRA,',
                'count parameters, load and plan a recipe. Reads plain lines when stdin is not a terminal.'],
        footer = ['', 'Examples:', '  peft4j repl',
                "  printf 'model = BertForSequenceClassification.fromPretrained(EmbeddedModels.resolve(\"minilm\"), 2, 42)\\nmodel.parameterCount()\\n' | peft4j repl",
                '', 'Inside: :help, :vars, :reset, :quit.'])
class ReplCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        Repl repl = new Repl(spec.commandLine().out)
        if (System.console() != null) {
            repl.interactive()
        } else {
            repl.plain(new BufferedReader(new InputStreamReader(System.in)))
        }
        0
    }
}
