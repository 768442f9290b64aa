package org.peft4j.dsl

import groovy.transform.CompileStatic

/**
 * Remembers where each value of a recipe was set: a file and line (the recipe, or a recipe it starts
 * {@code from}), or a {@code --set} override. Validation messages are phrased by field ("lora.r = 0 must be >= 1"),
 * so a problem is placed at the most specific field it names, else at its block, else at the top of the recipe.
 */
@CompileStatic
final class Origins {

    /** A place: a file and line, or the override that set the value. */
    static record Where(String file, int line, String override) {
        String format(String fallbackFile) {
            String f = file ?: fallbackFile
            override == null ? "${f}:${line}".toString() : "${f}: ${override}".toString()
        }
    }

    /** A problem and where it belongs. */
    static record Problem(Where where, String message) {
        String format(String fallbackFile) {
            "${where.format(fallbackFile)}: ${message}".toString()
        }
    }

    /** Compiled script class name to the recipe file it came from. */
    private final Map<String, String> scripts = [:]
    private final Map<String, Where> places = [:]
    private final List<Problem> problems = []
    private String override

    /** A script class runs the recipe {@code file}; frames of that class are placed in that file. */
    void register(String scriptClass, String file) {
        scripts[scriptClass] = file
    }

    /** Records that {@code key} (e.g. "lora.r") was set here. */
    void mark(String key) {
        places[key] = here()
    }

    /** Where {@code key} was set, or null. */
    Where of(String key) {
        places[key]
    }

    /** True when something in {@code file} was set already. */
    boolean anySetIn(String file) {
        places.values().any { Where w -> w.file() == file && w.override() == null }
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
        new Problem(key == null ? new Where(null, 1, null) : places[key], message)
    }

    /** The recipe line now executing: the innermost stack frame of a recipe script or one of its closures. */
    Where here() {
        if (override != null) {
            return new Where(null, 0, override)
        }
        Where w = StackWalker.instance.walk { frames ->
            frames.filter { StackWalker.StackFrame f -> fileOf(f.className) != null && f.lineNumber > 0 }
                    .map { StackWalker.StackFrame f -> new Where(fileOf(f.className), f.lineNumber, null) }
                    .findFirst().orElse(null)
        }
        w ?: new Where(null, 1, null)
    }

    /** The recipe place of a failure thrown from a script, or null when no script is on its stack. */
    Where whereOf(Throwable error) {
        StackTraceElement e = error.stackTrace.find { StackTraceElement s -> fileOf(s.className) != null && s.lineNumber > 0 }
        e == null ? null : new Where(fileOf(e.className), e.lineNumber, null)
    }

    private String fileOf(String className) {
        int dollar = className.indexOf('$')
        scripts[dollar < 0 ? className : className.substring(0, dollar)]
    }
}
