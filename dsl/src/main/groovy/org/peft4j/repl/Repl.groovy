package org.peft4j.repl

import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.MultipleCompilationErrorsException
import org.codehaus.groovy.control.customizers.ImportCustomizer
import org.codehaus.groovy.control.messages.SyntaxErrorMessage
import org.jline.reader.EndOfFileException
import org.jline.reader.LineReader
import org.jline.reader.LineReaderBuilder
import org.jline.reader.UserInterruptException
import org.jline.terminal.Terminal
import org.peft4j.config.ConfigException
import org.peft4j.dsl.RecipeException

import java.nio.file.Files
import java.nio.file.Path

/**
 * An interactive Groovy shell over the runtime, with the REPL's verbs ({@link ReplScript}) and values that print
 * as a user expects ({@link Show}). Variables assigned at the top level (with or without {@code def}) stay for
 * later lines; a line that leaves a brace, bracket or parenthesis open continues on the next. On a terminal it
 * edits lines with JLine (completion, persistent history, Ctrl-R; Ctrl-C stops a running {@code train});
 * otherwise it reads lines plainly, so a script can drive it through stdin.
 * <p>
 * Built on JLine and {@link GroovyShell}, not groovysh: groovysh 5.0.8 is not on Maven Central, and mixing
 * it with an older Groovy would put two Groovy versions on one classpath.
 */
class Repl {

    static final String HELP = '''\
peft4j repl: Groovy with the peft4j runtime, the recipe DSL and short verbs.
  recipe = load 'recipes/quickstart.groovy'        a recipe file (sandboxed; load 'x', allowCode: true trusts it)
  recipe.set 'train.maxSteps', 40                  override a value, as --set does
  r = recipe \'\'\'model { ... } lora { ... } ...\'\'\'    a recipe written here with the DSL's blocks
  session = train recipe, steps: 20                open a run and train 20 steps (Ctrl-C stops after the current step)
  train session, steps: 20                         go on, exactly where it stopped
  session.loss   session.metrics   session.model   session.ranks (AdaLoRA)
  evaluate session                                 metrics of every split now
  predict session, 'Win a FREE cruise now!!!'      label and probabilities (classifiers)
  generate session, 'Q: ...'                       greedy continuation (causal language models)
  plot session                                     loss, learning-rate and eval PNGs in the run directory
  save session                                     adapter, summary and report in the run directory
  merge session, 'out/merged'                      the adapter merged into the base model
  model = session.model; model.bert.encoder.layer[0]; model['bert.encoder.layer.0.attention.self.query']
Commands:
  :help            this text
  :vars            the variables kept so far
  :reset           forget all variables
  :load FILE       run the lines of a file
  :save FILE       write the lines that worked so far, as a script that runs again
  :quit, :exit     leave (Ctrl-D too)
Tab completes variables, verbs, methods and properties, module paths in model['...'], recipe keys in
set '...', and file paths in strings. A line with an open { [ ( continues on the next.
'''

    static final List<String> IMPORTS = ['org.peft4j.run', 'org.peft4j.dsl', 'org.peft4j.models', 'org.peft4j.models.bert',
                                         'org.peft4j.peft.lora', 'org.peft4j.nn', 'org.peft4j.train', 'org.peft4j.data',
                                         'org.peft4j.tensor', 'org.peft4j.config', 'org.peft4j.repl', 'java.nio.file']

    private static final String ASSIGNMENT = /^\s*[A-Za-z_]\w*\s*=(?!=)/

    private final ReplContext context
    private final PrintWriter out
    private final ReplBinding binding
    private final GroovyShell shell
    /** The chunks that evaluated without an error, in order, for :save. */
    private final List<String> worked = []
    private int count

    Repl(ReplContext context) {
        this.context = context
        this.out = context.out
        this.binding = new ReplBinding(context)
        ImportCustomizer imports = new ImportCustomizer().addStarImports(IMPORTS as String[])
        CompilerConfiguration cc = new CompilerConfiguration().addCompilationCustomizers(imports)
        cc.scriptBaseClass = ReplScript.name
        shell = new GroovyShell(Repl.classLoader, binding, cc)
    }

    /** The variables, for completion. */
    Binding getBinding() {
        binding
    }

    /** Reads from {@code terminal} with line editing, completion and the history in {@code historyFile}. */
    void interactive(Terminal terminal, Path historyFile) {
        if (historyFile != null) {
            Files.createDirectories(historyFile.toAbsolutePath().parent)
        }
        LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName('peft4j')
                .parser(new ReplParser()).completer(new ReplCompleter(binding))
                .variable(LineReader.HISTORY_FILE, historyFile)
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .build()
        out.println("peft4j ${ReplScript.package?.implementationVersion ?: 'dev'} — Groovy ${GroovySystem.version}; :help for help, :quit to leave")
        out.flush()
        StringBuilder pending = new StringBuilder()
        try {
            while (true) {
                String line
                try {
                    line = reader.readLine(pending.length() == 0 ? 'peft4j> ' : '....... ')
                } catch (UserInterruptException ignored) {
                    pending.setLength(0)
                    continue
                } catch (EndOfFileException ignored) {
                    break
                }
                // while a line runs, Ctrl-C asks a running train to stop (readLine installs its own handler each time)
                terminal.handle(Terminal.Signal.INT) { context.interrupted.set(true) }
                if (!accept(line, pending)) {
                    break
                }
            }
        } finally {
            reader.history.save()
            close()
        }
    }

    /** Reads plain lines, e.g. from a pipe; echoes nothing but the results, so the output can be checked. */
    void plain(BufferedReader input) {
        try {
            StringBuilder pending = new StringBuilder()
            String line
            while ((line = input.readLine()) != null) {
                if (!accept(line, pending)) {
                    return
                }
            }
            if (pending.length() > 0) {
                evaluate(pending.toString())
            }
        } finally {
            close()
        }
    }

    /** Frees every session's model and data. */
    void close() {
        context.sessions.each { it.close() }
        context.sessions.clear()
    }

    /** Handles one line; false to leave. */
    boolean accept(String line, StringBuilder pending) {
        String t = line.trim()
        if (pending.length() == 0 && t.startsWith(':')) {
            return command(t)
        }
        pending.append(line).append('\n')
        if (open(pending.toString()) > 0) {
            return true
        }
        String code = pending.toString()
        pending.setLength(0)
        if (code.trim()) {
            evaluate(code)
        }
        true
    }

    private boolean command(String t) {
        String name = t.split(/\s+/, 2)[0]
        String arg = t.contains(' ') ? t.substring(t.indexOf(' ') + 1).trim() : ''
        switch (name) {
            case ':quit': case ':exit': case ':q':
                return false
            case ':help': case ':h':
                out.print(HELP)
                break
            case ':vars':
                binding.variables.each { k, v -> out.println("${k} = ${firstLine(Show.of(v))}") }
                break
            case ':reset':
                binding.variables.clear()
                out.println('variables cleared')
                break
            case ':load':
                load(arg)
                break
            case ':save':
                save(arg)
                break
            default:
                out.println("unknown command ${t}; :help lists the commands")
        }
        out.flush()
        true
    }

    private void load(String file) {
        Path p = Path.of(file)
        if (!file || !Files.isRegularFile(p)) {
            out.println("error: :load needs a file: ${file ?: 'none given'} is not one")
            return
        }
        StringBuilder pending = new StringBuilder()
        for (String line : Files.readAllLines(p)) {
            if (!accept(line, pending)) {
                break
            }
        }
        if (pending.length() > 0) {
            evaluate(pending.toString())
        }
    }

    private void save(String file) {
        if (!file) {
            out.println('error: :save needs a file, e.g. :save session.groovy')
            return
        }
        Files.writeString(Path.of(file), worked.join(''))
        out.println("saved ${worked.size()} line${worked.size() == 1 ? '' : 's'} that worked to ${file}")
    }

    void evaluate(String code) {
        // "def x = ..." would make x local to one line; keep it like a plain assignment
        String kept = code.replaceAll(/(?m)^(\s*)(?:def|var)\s+([A-Za-z_]\w*)\s*=/, '$1$2 =')
        try {
            Object result = shell.evaluate(kept, "repl_${++count}.groovy")
            worked << code
            if (result != null && !(kept =~ ASSIGNMENT)) {
                String shown = Show.of(result)
                out.println(shown.contains('\n') ? shown : "===> ${shown}")
            }
        } catch (MultipleCompilationErrorsException e) {
            out.println('error: ' + e.errorCollector.errors.collect { m ->
                m instanceof SyntaxErrorMessage ? ((SyntaxErrorMessage) m).cause.originalMessage : m.toString()
            }.join('; '))
        } catch (RecipeException | ConfigException | IllegalArgumentException | IllegalStateException
                 | UnsupportedOperationException e) {
            out.println("error: ${e.message}")
        } catch (Throwable e) {
            out.println("error: ${e.class.simpleName}: ${e.message}")
        }
        out.flush()
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n')
        nl < 0 ? s : s.substring(0, nl) + ' …'
    }

    /** Brackets still open, not counting those inside quotes or comments. */
    static int open(String code) {
        // an unclosed triple-quoted string continues too
        if ((code.replaceAll(/(?s)'''.*?'''|""".*?"""/, '') =~ /'''|"""/).find()) {
            return 1
        }
        String bare = code.replaceAll(/(?s)'''.*?'''|""".*?"""|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|\/\/[^\n]*|\/\*.*?\*\//, '')
        int depth = 0
        for (char c : bare.toCharArray()) {
            if (c == '{' as char || c == '[' as char || c == '(' as char) {
                depth++
            } else if (c == '}' as char || c == ']' as char || c == ')' as char) {
                depth--
            }
        }
        depth
    }
}
