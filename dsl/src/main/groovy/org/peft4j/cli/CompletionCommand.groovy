package org.peft4j.cli

import picocli.AutoComplete
import picocli.CommandLine.Command
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Spec

import java.util.concurrent.Callable

/** Prints a bash (and zsh) completion script generated from the command model, so it never drifts from the options. */
@Command(name = 'completion', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = 'Print a bash/zsh completion script for peft4j (commands, options and --set keys).',
        footer = ['', 'Examples:', '  source <(peft4j completion)', '  peft4j completion > /etc/bash_completion.d/peft4j'])
class CompletionCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        PrintWriter out = spec.commandLine().out
        out.print(AutoComplete.bash('peft4j', spec.parent().commandLine()))
        out.flush()
        0
    }
}
