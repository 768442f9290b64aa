package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.PackageScope
import org.peft4j.data.DataConfig
import org.peft4j.data.TextFormat
import org.peft4j.embedding.LossKind

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
    // embedding tasks: the training file's declared shape, retrieval evaluation, scored pairs for Spearman's ρ
    private EmbeddingSource embeddingTrain
    private JsonlSource queries
    private JsonlSource corpus
    private EmbeddingSource sts

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

    /** Embedding training pairs, JSONL {@code {"anchor": ..., "positive": ...[, "negative": ...]}} (InfoNCE). */
    EmbeddingSource pairs(String path) {
        embeddingFile(path, LossKind.INFONCE)
    }

    /** Sentences for unsupervised SimCSE: JSONL with {@code "text"}, or one sentence per line. */
    EmbeddingSource sentences(String path) {
        embeddingFile(path, LossKind.SIMCSE)
    }

    /** Scored pairs, JSONL {@code {"a": ..., "b": ..., "score": 0.8}}: cosine regression, or Spearman's ρ in {@code sts}. */
    EmbeddingSource scored(String path) {
        embeddingFile(path, LossKind.COSINE)
    }

    /** The training file of an embedding task: {@code train pairs('pairs.jsonl')}. */
    @Option
    void train(EmbeddingSource source) {
        train = new JsonlSource(source.path(), null, null)
        embeddingTrain = source
        mark('train')
    }

    /** Retrieval queries, JSONL {@code {"id": ..., "text": ..., "relevant": [doc ids]}}; goes with {@code corpus}. */
    @Option
    void queries(JsonlSource source) {
        queries = source
        mark('queries')
    }

    /** The retrieval corpus, JSONL {@code {"id": ..., "text": ...}}; every query ranks all of it. */
    @Option
    void corpus(JsonlSource source) {
        corpus = source
        mark('corpus')
    }

    /** Scored pairs evaluated by Spearman's ρ before and after: {@code sts scored('sts-dev.jsonl')}. */
    @Option
    void sts(EmbeddingSource source) {
        sts = source
        mark('sts')
        if (source.format() != LossKind.COSINE) {
            origins.problem("data.sts takes scored('...') pairs with a score, not ${source.helper()}('...')".toString())
        }
    }

    /** What an embedding recipe's data block says that its loss cannot read, or that only classification reads. */
    @PackageScope
    List<String> embeddingProblems(LossKind loss) {
        List<String> p = []
        // a --set data.train=FILE after train pairs(...) names a plain file: its shape is then the loss's
        if (embeddingTrain != null && embeddingTrain.path() == train?.path() && loss != null && embeddingTrain.format() != loss) {
            String wanted = new EmbeddingSource(null, loss).helper()
            p << ("data.train is ${embeddingTrain.helper()}('...') but loss '${loss.name().toLowerCase()}' trains on" +
                    " ${wanted}('...'); use train ${wanted}('...') or another loss").toString()
        }
        // the runtime reads text and label fields with defaults, so only the DSL knows they were given
        for (String name : ['text', 'label']) {
            if (origins.of('data.' + name) != null) {
                p << ("data.${name} is for classification; an embedding task evaluates on queries and corpus" +
                        " (retrieval) and sts (scored pairs)").toString()
            }
        }
        p
    }

    /** An embedding task's training file given to a classification or causal-LM recipe. */
    @PackageScope
    List<String> classificationProblems() {
        List<String> p = []
        if (embeddingTrain != null && embeddingTrain.path() == train?.path()) {
            p << "data.train is ${embeddingTrain.helper()}('...'), training data of an embedding task; a classifier trains on jsonl('...') with text and label".toString()
        }
        p
    }

    private EmbeddingSource embeddingFile(String path, LossKind format) {
        EmbeddingSource source = new EmbeddingSource(resolve(path), format)
        origins.mark('file:' + source.path())
        source
    }

    @PackageScope
    DataConfig build() {
        new DataConfig(train?.path(), valid?.path(), test?.path(), field('text') ?: 'text', field('label') ?: 'label',
                maxLength, limit, queries?.path(), corpus?.path(), sts?.path())
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
