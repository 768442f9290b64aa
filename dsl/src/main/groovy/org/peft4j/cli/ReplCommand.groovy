package org.peft4j.cli

import org.jline.terminal.TerminalBuilder
import org.peft4j.repl.Repl
import org.peft4j.repl.ReplContext
import picocli.CommandLine.Command
import picocli.CommandLine.Mixin
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Option
import picocli.CommandLine.Spec

import java.nio.file.Path
import java.util.concurrent.Callable

/** {@code peft4j repl}: a fine-tune explored step by step, in Groovy with the runtime, the DSL and short verbs. */
@Command(name = 'repl', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['An interactive Groovy shell with the peft4j runtime and DSL imported and short verbs: load a recipe,',
                'set values as --set does, train a few steps at a time (same run directories and numbers as peft4j run),',
                'look at loss, metrics, predictions, the module tree; plot, save, merge. Reads plain lines when stdin is',
                'not a terminal.'],
        footer = ['', 'Examples:', '  peft4j repl',
                "  printf \"recipe = load 'recipes/quickstart.groovy'\\nrecipe.set 'train.maxSteps', 4\\nsession = train recipe, steps: 2\\npredict session, 'Win a FREE cruise'\\n\" | peft4j repl",
                '', 'Inside: :help, :vars, :reset, :load FILE, :save FILE, :quit. Walk-through: docs/repl.md.'])
class ReplCommand implements Callable<Integer> {

    @Mixin
    SandboxOptions sandbox = new SandboxOptions()

    @Option(names = '--history', paramLabel = 'FILE', description = 'the history kept across sessions (default: ~/.peft4j/repl_history)')
    Path history = Path.of(System.getProperty('user.home'), '.peft4j', 'repl_history')

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        sandbox.timeLimit()
        if (System.console() != null) {
            TerminalBuilder.builder().system(true).build().withCloseable { t ->
                new Repl(context(t.writer(), true)).interactive(t, history)
            }
        } else {
            new Repl(context(spec.commandLine().out, false)).plain(new BufferedReader(new InputStreamReader(System.in)))
        }
        0
    }

    /** The verbs' host: the REPL's output, this command's sandbox choice, run's progress, report and merge. */
    ReplContext context(PrintWriter out, boolean bar) {
        new ReplContext(out, sandbox.allowCode, sandbox.recipeTimeout, { -> new ProgressListener(out, bar && Terminal.interactive(), false) },
                { s -> RunCommand.report(s, Path.of('').toAbsolutePath()) },
                { List<String> args ->
                    def cl = Main.commandLine()
                    cl.out = out
                    cl.err = out
                    cl.execute(args as String[])
                }, Path.of(System.getProperty('java.io.tmpdir'), "peft4j-repl-${ProcessHandle.current().pid()}"))
    }
}
