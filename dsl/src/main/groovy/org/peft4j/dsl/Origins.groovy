package org.peft4j.dsl

import groovy.transform.CompileStatic

/**
 * Remembers where each value of a recipe was set: a line of the recipe, or a {@code --set} override.
 * Validation messages are phrased by field ("lora.r = 0 must be >= 1"), so a problem is placed at the
 * line of the most specific field it names, else at its block, else at the top of the file.
 */
@CompileStatic
final class Origins {

    /** A place in the recipe: a line, or the override that set the value. */
    static record Where(int line, String override) {
        String format(String file) {
            override == null ? "${file}:${line}".toString() : "${file}: ${override}".toString()
        }
    }

    /** A problem and where it belongs. */
    static record Problem(Where where, String message) {
        String format(String file) {
            "${where.format(file)}: ${message}".toString()
        }
    }

    private final String scriptClass
    private final Map<String, Where> places = [:]
    private final List<Problem> problems = []
    private String override

    Origins(String scriptClass) {
        this.scriptClass = scriptClass
    }

    /** Records that {@code key} (e.g. "lora.r") was set here. */
    void mark(String key) {
        places[key] = here()
    }

    /** Where {@code key} was set, or null. */
    Where of(String key) {
        places[key]
    }

    /** A problem the DSL itself found, placed at the current recipe line. */
    void problem(String message) {
        problems << new Problem(here(), message)
    }

    List<Problem> problems() {
        problems
    }

    /** Runs {@code body} with every value it sets attributed to an override. */
    void overriding(String text, Runnable body) {
        override = text
        try {
            body.run()
        } finally {
            override = null
        }
    }

    /** Places a validation message: the longest recorded key the message starts with wins. */
    Problem locate(String message) {
        // a file named in the message is more specific than the field that names it
        String key = places.keySet().find { String k -> k.startsWith('file:') && message.contains(k.substring(5)) }
        if (key == null) {
            key = places.keySet()
                    .findAll { String k -> message.startsWith(k) && (message.length() == k.length() || !Character.isLetterOrDigit(message.charAt(k.length()))) }
                    .max { String k -> k.length() }
        }
        new Problem(key == null ? new Where(1, null) : places[key], message)
    }

    /** The recipe line now executing: the innermost stack frame of the script or one of its closures. */
    Where here() {
        if (override != null) {
            return new Where(0, override)
        }
        int line = StackWalker.instance.walk { frames ->
            frames.filter { StackWalker.StackFrame f -> isScript(f.className) && f.lineNumber > 0 }
                    .map { StackWalker.StackFrame f -> f.lineNumber }
                    .findFirst().orElse(1)
        }
        new Where(line, null)
    }

    /** The recipe line of a failure thrown from the script, or 0 when the script is not on its stack. */
    int lineOf(Throwable error) {
        StackTraceElement e = error.stackTrace.find { StackTraceElement s -> isScript(s.className) && s.lineNumber > 0 }
        e == null ? 0 : e.lineNumber
    }

    private boolean isScript(String className) {
        className == scriptClass || className.startsWith(scriptClass + '$')
    }
}
