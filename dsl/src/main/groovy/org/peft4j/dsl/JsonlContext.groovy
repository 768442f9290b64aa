package org.peft4j.dsl

import groovy.transform.CompileStatic

import java.nio.file.Path

/** The block after a file: {@code jsonl('train.jsonl') { text 'text'; label 'label' }}. */
@CompileStatic
class JsonlContext extends Context {

    String text
    String label

    JsonlContext(Origins origins, Path baseDir) {
        super(origins, 'data', baseDir)
    }

    /** The JSON field holding the text. */
    @Option
    void text(String field) {
        text = field
        mark('text')
    }

    /** The JSON field holding the label. */
    @Option
    void label(String field) {
        label = field
        mark('label')
    }
}
