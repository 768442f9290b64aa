package org.peft4j.repl

/** The REPL's variables, and the context its verbs act in (which is not a variable the user sees). */
class ReplBinding extends Binding {

    final ReplContext context

    ReplBinding(ReplContext context) {
        this.context = context
    }
}
