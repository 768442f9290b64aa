package org.peft4j.cli

import org.peft4j.config.ConfigException
import org.peft4j.data.DataFileException
import org.peft4j.dsl.RecipeException
import org.peft4j.models.Registry
import org.peft4j.models.core.Task
import picocli.CommandLine
import picocli.CommandLine.Command
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Spec

/** {@code peft4j}: the command line. Exit codes: 0 ok, 1 the run failed, 2 a usage or recipe mistake. */
@Command(name = 'peft4j', mixinStandardHelpOptions = true, versionProvider = Version,
        description = 'Parameter-efficient fine-tuning on the JVM: compile a recipe script, check it, run it.',
        subcommands = [RunCommand, CheckCommand, InspectCommand, MergeCommand, ExportCommand, PredictCommand, BenchCommand, ImportOnnxCommand,
                GenerateCommand,
                PerplexityCommand,
                EmbedCommand,
                EvalCommand,
                EvalRetrievalCommand,
                ReplCommand, CompletionCommand, CommandLine.HelpCommand],
        footer = ['', 'Examples:', '  peft4j check recipes/quickstart.groovy', '  peft4j run recipes/quickstart.groovy --set train.epochs=1',
                '  peft4j run runs/quickstart-20260101-120000   # rerun a run directory',
                '  peft4j inspect minilm --recipe recipes/quickstart.groovy',
                '  peft4j merge --model minilm --adapter runs/quickstart/adapter --out merged',
                '  peft4j predict --model merged --input mail.jsonl --out predictions.jsonl', '  peft4j bench', '  peft4j repl',
                '', 'Exit codes: 0 ok, 1 the run failed, 2 a usage or recipe mistake.'])
class Main implements Runnable {

    static final int FAILED = 1
    static final int USAGE = 2

    @Spec
    CommandSpec spec

    static void main(String[] args) {
        // before anything touches DJL: the engine never downloads at run time, unless a GPU build's
        // launcher asked for DJL's CUDA libtorch (-Dai.djl.offline=false, docs/devices.md)
        if (System.getProperty('ai.djl.offline') == null) {
            System.setProperty('ai.djl.offline', 'true')
        }
        System.exit(commandLine().execute(args))
    }

    /** The system property help texts read the decoder model types from, as {@code ${sys:peft4j.help.decoder-model-types}}. */
    static final String DECODER_TYPES = 'peft4j.help.decoder-model-types'

    /**
     * The command line with peft4j's error handling; tests call {@code execute} on it, and may give
     * the factory that makes the commands.
     */
    static CommandLine commandLine(CommandLine.IFactory factory = CommandLine.defaultFactory()) {
        // help names the families the Registry serves; picocli reads annotation text, so the list goes through a property
        System.setProperty(DECODER_TYPES, Registry.modelTypes(Task.Kind.CAUSAL_LM).join(', '))
        CommandLine cl = new CommandLine(new Main(), factory)
        // examples are whole command lines; at picocli's 80 columns they break mid-command. A terminal's own width wins.
        cl.usageHelpWidth = 120
        cl.usageHelpAutoWidth = true
        cl.colorScheme = CommandLine.Help.defaultColorScheme(Terminal.colors() ? CommandLine.Help.Ansi.AUTO : CommandLine.Help.Ansi.OFF)
        cl.executionExceptionHandler = { Exception e, CommandLine cmd, CommandLine.ParseResult parsed ->
            boolean stackTrace = parsed.subcommand()?.hasMatchedOption('--stacktrace') || parsed.hasMatchedOption('--stacktrace')
            // a data file's mistake names its file and line, like a recipe's
            boolean userError = e instanceof RecipeException || e instanceof ConfigException || e instanceof UserError
                    || e instanceof DataFileException
            PrintWriter err = cmd.err
            err.println(userError ? e.message : "${cmd.commandName} failed: ${e.message ?: e.class.name}")
            if (stackTrace) {
                e.printStackTrace(err)
            } else if (!userError) {
                err.println('(run again with --stacktrace for the details)')
            }
            err.flush()
            userError ? USAGE : FAILED
        } as CommandLine.IExecutionExceptionHandler
        cl
    }

    @Override
    void run() {
        spec.commandLine().usage(spec.commandLine().out)
    }

    /** The version of this build, with the Java it runs on. */
    static class Version implements CommandLine.IVersionProvider {
        @Override
        String[] getVersion() {
            ["peft4j ${current()}".toString(),
             "Java ${System.getProperty('java.version')}, Groovy ${GroovySystem.version}".toString()] as String[]
        }

        static String current() {
            Main.package?.implementationVersion ?: 'development build'
        }
    }
}
