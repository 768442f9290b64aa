package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.PackageScope
import org.peft4j.data.DataConfig
import org.peft4j.data.TextFormat

import java.nio.file.Path

/**
 * {@code data { train jsonl('train.jsonl'); valid jsonl('valid.jsonl'); maxLength 128 }}; for a causal LM the files
 * say how they read: {@code train chats('chat.jsonl')}, {@code instructions('alpaca.jsonl')} or {@code texts('mail.jsonl')}.
 */
@CompileStatic
class DataContext extends Context {

    private JsonlSource train
    private JsonlSource valid
    private JsonlSource test
    private String text
    private String label
    private int maxLength = 128
    private int limit = 0
    /** The format each causal-LM file was given with; a file given as a plain path (an override) takes the others'. */
    private final Map<Path, TextFormat> formats = [:]

    DataContext(Origins origins, Path baseDir) {
        super(origins, 'data', baseDir)
    }

    /** A JSONL file, relative to the recipe's folder. */
    JsonlSource jsonl(String path) {
        file(new JsonlSource(resolve(path), null, null))
    }

    /** A JSONL file whose block names its fields: {@code jsonl('x.jsonl') { text 'review'; label 'stars' }}. */
    JsonlSource jsonl(String path, @DelegatesTo(value = JsonlContext, strategy = Closure.DELEGATE_FIRST) Closure fields) {
        JsonlContext c = configure(new JsonlContext(origins, baseDir), fields)
        file(new JsonlSource(resolve(path), c.text, c.label))
    }

    /** Instruction JSONL ({@code instruction}, optional {@code input}, {@code output}) for a causal LM; the output is learned. */
    JsonlSource instructions(String path) {
        formatted(jsonl(path), TextFormat.INSTRUCTIONS)
    }

    /** Chat JSONL ({@code messages}: [{role, content}, ...]) for a causal LM; the assistant turns are learned. */
    JsonlSource chats(String path) {
        formatted(jsonl(path), TextFormat.CHATS)
    }

    /** Plain-text JSONL for a causal LM (field {@code text} unless named); every token is learned. */
    JsonlSource texts(String path) {
        formatted(jsonl(path), TextFormat.TEXTS)
    }

    /** Plain-text JSONL whose block names the text field: {@code texts('mail.jsonl') { text 'body' }}. */
    JsonlSource texts(String path, @DelegatesTo(value = JsonlContext, strategy = Closure.DELEGATE_FIRST) Closure fields) {
        formatted(jsonl(path, fields), TextFormat.TEXTS)
    }

    private JsonlSource formatted(JsonlSource source, TextFormat format) {
        formats[source.path()] = format
        source
    }

    /** The causal-LM format of the data files, or null when they are plain jsonl(...) files (classification). */
    @PackageScope
    TextFormat format() {
        Set<TextFormat> given = givenFormats()
        given.size() == 1 ? given.first() : null
    }

    private Set<TextFormat> givenFormats() {
        new LinkedHashSet<TextFormat>([train, valid, test].findAll { it != null }
                .collect { JsonlSource s -> formats[s.path()] }.findAll { it != null })
    }

    @Option
    void train(JsonlSource source) {
        train = source
        mark('train')
    }

    @Option
    void valid(JsonlSource source) {
        valid = source
        mark('valid')
    }

    @Option
    void test(JsonlSource source) {
        test = source
        mark('test')
    }

    /** The JSON field holding the text, for every file (default 'text'). */
    @Option
    void text(String field) {
        text = field
        mark('text')
    }

    /** The JSON field holding the label, for every file (default 'label'). */
    @Option
    void label(String field) {
        label = field
        mark('label')
    }

    @Option
    void maxLength(int tokens) {
        maxLength = tokens
        mark('maxLength')
    }

    /** Read at most this many training examples (0: all). */
    @Option
    void limit(int examples) {
        limit = examples
        mark('limit')
    }

    @PackageScope
    DataConfig build() {
        new DataConfig(train?.path(), valid?.path(), test?.path(), field('text') ?: 'text', field('label') ?: 'label',
                maxLength, limit)
    }

    /** The runtime reads one text field and one label field for all splits, so the files must agree. */
    @PackageScope
    List<String> problems() {
        List<String> p = []
        if (givenFormats().size() > 1) {
            p << "data files are read as ${givenFormats()*.name()*.toLowerCase().join(' and ')}; all splits of a run share one format".toString()
        }
        for (String name : ['text', 'label']) {
            Set<String> given = fieldsGiven(name)
            if (given.size() > 1) {
                p << "data.${name} differs between files ${given}; all splits are read with the same fields".toString()
            }
        }
        p
    }

    private String field(String name) {
        Set<String> given = fieldsGiven(name)
        given.isEmpty() ? null : given.first()
    }

    private Set<String> fieldsGiven(String name) {
        Set<String> given = new LinkedHashSet<>()
        String blockLevel = name == 'text' ? text : label
        if (blockLevel != null) {
            given << blockLevel
        }
        for (JsonlSource s : [train, valid, test]) {
            String f = s == null ? null : (name == 'text' ? s.text() : s.label())
            if (f != null) {
                given << f
            }
        }
        given
    }

    private JsonlSource file(JsonlSource source) {
        origins.mark('file:' + source.path())
        source
    }
}
