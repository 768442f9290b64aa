package org.peft4j.repl

import org.jline.reader.Candidate
import org.jline.reader.Completer
import org.jline.reader.LineReader
import org.jline.reader.ParsedLine

/** JLine's side of {@link ReplCompletion}: candidates that replace the word without adding a space. */
class ReplCompleter implements Completer {

    private final Binding binding

    ReplCompleter(Binding binding) {
        this.binding = binding
    }

    @Override
    void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
        String before = line.line().substring(0, line.cursor())
        ReplCompletion.candidates(before, binding).each { String c ->
            candidates << new Candidate(c, c, null, null, null, null, false)
        }
    }
}
