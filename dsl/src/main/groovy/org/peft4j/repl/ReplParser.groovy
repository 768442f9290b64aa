package org.peft4j.repl

import org.jline.reader.CompletingParsedLine
import org.jline.reader.ParsedLine
import org.jline.reader.Parser

/**
 * Tells JLine which word Tab completes: the identifier before the cursor, or the text of the string the cursor
 * is in (so that a module path or file path is one word, dots and slashes included). Lines are accepted as
 * typed; the REPL itself joins lines that leave a bracket open.
 */
class ReplParser implements Parser {

    @Override
    ParsedLine parse(String line, int cursor, Parser.ParseContext context) {
        String before = line.substring(0, cursor)
        int start = ReplCompletion.wordStart(before)
        String word = line.substring(start, cursor)
        List<String> words = [line.substring(0, start), word]
        new CompletingParsedLine() {
            String word() { word }
            int wordCursor() { word.length() }
            int wordIndex() { 1 }
            List<String> words() { words }
            String line() { line }
            int cursor() { cursor }
            // candidates are inserted as they are: the REPL's words need no shell quoting
            CharSequence escape(CharSequence candidate, boolean complete) { candidate }
            int rawWordCursor() { word.length() }
            int rawWordLength() { word.length() }
        }
    }
}
