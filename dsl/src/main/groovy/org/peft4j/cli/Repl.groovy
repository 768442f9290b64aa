package org.peft4j.cli

import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.MultipleCompilationErrorsException
import org.codehaus.groovy.control.customizers.ImportCustomizer
import org.jline.reader.EndOfFileException
import org.jline.reader.LineReader
import org.jline.reader.LineReaderBuilder
import org.jline.reader.UserInterruptException
import org.jline.terminal.Terminal
import org.jline.terminal.TerminalBuilder

/**
 * An interactive Groovy shell with the runtime and the DSL imported. Variables assigned at the top level
 * (with or without {@code def}) stay for later lines; a line that leaves a brace, bracket or parenthesis
 * open continues on the next. On a terminal it edits lines with JLine (history, Ctrl-R); otherwise it reads
 * lines plainly, so a script can drive it through stdin.
 * <p>
 * Built on JLine and {@link GroovyShell}, not groovysh: groovysh 5.0.8 is not on Maven Central, and mixing
 * it with an older Groovy would put two Groovy versions on one classpath.
 */
class Repl {

    static final String HELP = '''\
peft4j repl: Groovy with the peft4j runtime and DSL imported.
  :help            this text
  :vars            the variables kept so far
  :reset           forget all variables
  :quit, :exit     leave (Ctrl-D too)
Variables assigned at the top level are kept; a line with an open { [ ( continues on the next.
Try:
  dir = EmbeddedModels.resolve('minilm')
  model = BertForSequenceClassification.fromPretrained(dir, 2, 42)
  lora = LoraInjector.inject(model, LoraConfig.of(8, 16, 0.05, ['query', 'value'], ['classifier']), Backend.get().manager())
  [model.trainableParameterCount(), model.parameterCount()]
  FineTune.plan(RecipeLoader.load(Path.of('recipes/quickstart.groovy')), TrainingListener.NONE).describe()
'''

    static final List<String> IMPORTS = ['org.peft4j.run', 'org.peft4j.dsl', 'org.peft4j.models', 'org.peft4j.models.bert',
                                         'org.peft4j.peft.lora', 'org.peft4j.nn', 'org.peft4j.train', 'org.peft4j.data',
                                         'org.peft4j.tensor', 'org.peft4j.config', 'java.nio.file']

    private final PrintWriter out
    private final Binding binding = new Binding()
    private final GroovyShell shell
    private int count

    Repl(PrintWriter out) {
        this.out = out
        ImportCustomizer imports = new ImportCustomizer().addStarImports(IMPORTS as String[])
        CompilerConfiguration cc = new CompilerConfiguration().addCompilationCustomizers(imports)
        shell = new GroovyShell(Repl.classLoader, binding, cc)
    }

    /** Reads from the terminal with line editing. */
    void interactive() {
        Terminal terminal = TerminalBuilder.builder().system(true).build()
        LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName('peft4j').build()
        out.println("peft4j ${Main.Version.current()} — Groovy ${GroovySystem.version}; :help for help, :quit to leave")
        out.flush()
        StringBuilder pending = new StringBuilder()
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
            if (!accept(line, pending)) {
                break
            }
        }
        terminal.close()
    }

    /** Reads plain lines, e.g. from a pipe; echoes nothing but the results, so the output can be checked. */
    void plain(BufferedReader input) {
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
        evaluate(code)
        true
    }

    private boolean command(String t) {
        switch (t) {
            case ':quit': case ':exit': case ':q':
                return false
            case ':help': case ':h':
                out.print(HELP)
                break
            case ':vars':
                binding.variables.each { k, v -> out.println("${k} = ${preview(v)}") }
                break
            case ':reset':
                binding.variables.clear()
                out.println('variables cleared')
                break
            default:
                out.println("unknown command ${t}; :help lists the commands")
        }
        out.flush()
        true
    }

    void evaluate(String code) {
        // "def x = ..." would make x local to one line; keep it like a plain assignment
        String kept = code.replaceAll(/(?m)^(\s*)(?:def|var)\s+([A-Za-z_]\w*)\s*=/, '$1$2 =')
        try {
            Object result = shell.evaluate(kept, "repl_${++count}.groovy")
            if (result != null) {
                out.println("===> ${preview(result)}")
            }
        } catch (MultipleCompilationErrorsException e) {
            out.println('error: ' + e.errorCollector.errors.collect { m ->
                m instanceof org.codehaus.groovy.control.messages.SyntaxErrorMessage
                        ? ((org.codehaus.groovy.control.messages.SyntaxErrorMessage) m).cause.originalMessage : m.toString()
            }.join('; '))
        } catch (Throwable e) {
            out.println("error: ${e.class.simpleName}: ${e.message}")
        }
        out.flush()
    }

    private static String preview(Object v) {
        String s = String.valueOf(v)
        s.length() > 2000 ? s.substring(0, 2000) + ' ...' : s
    }

    /** Brackets still open, not counting those inside quotes or comments. */
    static int open(String code) {
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
