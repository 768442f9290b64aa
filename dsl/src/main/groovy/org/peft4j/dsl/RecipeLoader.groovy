package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.TypeChecked
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.MultipleCompilationErrorsException
import org.codehaus.groovy.control.customizers.ASTTransformationCustomizer
import org.codehaus.groovy.control.messages.ExceptionMessage
import org.codehaus.groovy.control.messages.Message
import org.codehaus.groovy.control.messages.SyntaxErrorMessage
import org.codehaus.groovy.syntax.SyntaxException
import org.peft4j.config.ConfigException
import org.peft4j.run.RunConfig

import java.nio.file.Files
import java.nio.file.NoSuchFileException
import java.nio.file.Path

/**
 * Compiles and runs a recipe script and returns its validated {@link RunConfig}. Every mistake becomes a
 * {@link RecipeException} whose lines start with the recipe file and line.
 */
@CompileStatic
final class RecipeLoader {

    private RecipeLoader() {
    }

    /** Loads {@code recipe}, applies {@code overrides} ({@code "train.epochs" -> "1"}), and validates. */
    static RunConfig load(Path recipe, Map<String, String> overrides = [:]) {
        String file = recipe.toString()
        String text
        try {
            text = Files.readString(recipe)
        } catch (NoSuchFileException ignored) {
            throw new RecipeException("${file}: no such recipe file (looked in ${recipe.toAbsolutePath()})".toString())
        }
        RecipeScript script = compile(file, text)
        script.baseDir(recipe.toAbsolutePath().parent)
        Origins origins = script.origins()
        try {
            script.run()
        } catch (RecipeException e) {
            throw e
        } catch (Exception e) {
            int line = origins.lineOf(e)
            throw new RecipeException(["${file}:${line ?: 1}: ${describe(e)}".toString()], e)
        }
        List<String> refused = Overrides.apply(script, overrides ?: [:])
        if (refused) {
            throw new RecipeException(refused.collect { "${file}: ${it}".toString() })
        }
        String defaultName = recipe.fileName.toString().replaceFirst(/\.groovy$/, '')
        RunConfig config = script.build(defaultName)
        List<Origins.Problem> problems = origins.problems() + (script.problems() + config.problems()).collect { origins.locate(it) }
        if (problems) {
            throw new RecipeException(problems.toSorted { Origins.Problem p -> p.where().line() }.collect { it.format(file) })
        }
        config
    }

    private static RecipeScript compile(String file, String text) {
        CompilerConfiguration cc = new CompilerConfiguration()
        cc.scriptBaseClass = RecipeScript.name
        // type-checked, so that a misspelt block or option fails before anything runs
        cc.addCompilationCustomizers(new ASTTransformationCustomizer([extensions: [RecipeTypeChecking.name]], TypeChecked))
        GroovyShell shell = new GroovyShell(RecipeLoader.classLoader, new Binding(), cc)
        try {
            (RecipeScript) shell.parse(text, 'Recipe_' + Integer.toHexString(file.hashCode()) + '.groovy')
        } catch (MultipleCompilationErrorsException e) {
            throw new RecipeException(compileErrors(file, e), e)
        }
    }

    /** One line per error; errors at the same place (e.g. a named argument and its hint) share a line. */
    private static List<String> compileErrors(String file, MultipleCompilationErrorsException e) {
        Map<Integer, List<String>> byLine = new TreeMap<>()
        for (Message m : (List<Message>) e.errorCollector.errors) {
            int line = 1
            String text
            if (m instanceof SyntaxErrorMessage) {
                SyntaxException cause = ((SyntaxErrorMessage) m).cause
                line = Math.max(1, cause.line)
                text = cause.originalMessage.replace('[Static type checking] - ', '').trim()
            } else if (m instanceof ExceptionMessage) {
                text = describe(((ExceptionMessage) m).cause)
            } else {
                StringWriter w = new StringWriter()
                m.write(new PrintWriter(w))
                text = w.toString().trim()
            }
            byLine.computeIfAbsent(line) { new ArrayList<String>() }.add(hint(text))
        }
        byLine.collect { Integer line, List<String> texts -> "${file}:${line}: ${texts.unique().join('; ')}".toString() }
    }

    /** Adds what to do to the compiler's own phrasings that a recipe author is likely to meet. */
    private static String hint(String text) {
        if (text.startsWith('unexpected named arg: ')) {
            return text + ' (named values: adamW(lr, weightDecay, beta1, beta2, eps), sgd(lr, momentum, weightDecay),' +
                    ' linear/constant/cosine(warmup), classification(labels))'
        }
        if (text.startsWith('named param ') || text.startsWith('missing required named arg')) {
            return text + ' (e.g. adamW(lr: 5e-4), sgd(lr: 0.1), linear(warmup: 0.06), classification(labels: [\'a\', \'b\']))'
        }
        text
    }

    private static String describe(Throwable e) {
        if (e instanceof java.util.regex.PatternSyntaxException) {
            def p = (java.util.regex.PatternSyntaxException) e
            return "regex /${p.pattern}/ does not compile: ${p.description} near index ${p.index};" +
                    " e.g. target ~/.*\\.(query|value)/".toString()
        }
        if (e instanceof ConfigException) {
            return ((ConfigException) e).problems().join('; ')
        }
        e.message ?: e.class.simpleName
    }
}
