package org.peft4j.dsl

import groovy.transform.CompileStatic

/**
 * A mistake in a recipe or its overrides. Every line of the message starts with {@code <recipe file>:<line>:}
 * (or {@code <recipe file>: --set k=v:}) and says what is valid; a host prints it without a stack trace.
 */
@CompileStatic
class RecipeException extends RuntimeException {

    final List<String> problems

    RecipeException(List<String> problems, Throwable cause = null) {
        super(problems.join('\n'), cause)
        this.problems = List.copyOf(problems)
    }

    RecipeException(String problem) {
        this([problem])
    }
}
