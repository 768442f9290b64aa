package org.peft4j.dsl

import groovy.transform.CompileStatic
import org.codehaus.groovy.control.MultipleCompilationErrorsException
import org.codehaus.groovy.control.messages.ExceptionMessage
import org.codehaus.groovy.control.messages.Message
import org.codehaus.groovy.control.messages.SyntaxErrorMessage
import org.codehaus.groovy.syntax.SyntaxException
import org.peft4j.config.ConfigException

/** Compiler errors and script failures as recipe messages: {@code file:line: what, and what to write}. */
@CompileStatic
final class CompileErrors {

    private CompileErrors() {
    }

    /** One line per error; errors at the same place (e.g. a named argument and its hint) share a line. */
    static List<String> of(String file, MultipleCompilationErrorsException e) {
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

    static String describe(Throwable e) {
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
