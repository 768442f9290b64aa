package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.NamedParam
import groovy.transform.PackageScope
import org.peft4j.embedding.LossKind
import org.peft4j.embedding.PoolingMode
import org.peft4j.models.ModelSpec
import org.peft4j.models.TaskType

import java.nio.file.Path

/** {@code model { source 'minilm'; task classification(labels: ['ham', 'spam']) }} */
@CompileStatic
class ModelContext extends Context {

    private String source
    private Path path
    private Task task
    private EmbeddingTask embeddingTask

    ModelContext(Origins origins, Path baseDir) {
        super(origins, 'model', baseDir)
    }

    /** An embedded model by name: {@code source 'minilm'}. */
    @Option
    void source(String name) {
        source = name
        mark('source')
    }

    /** A Hugging Face model directory, relative to the recipe's folder. */
    @Option
    void path(String directory) {
        path = resolve(directory)
        mark('path')
    }

    @Option
    void task(Task task) {
        this.task = task
        embeddingTask = null
        mark('task')
    }

    /** A sentence-embedding run: {@code task embedding(pooling: 'mean', loss: 'infonce', temperature: 0.05)}. */
    @Option
    void task(EmbeddingTask task) {
        embeddingTask = task
        this.task = null
        mark('task')
    }

    /**
     * Sentence vectors, L2-normalised: {@code pooling} 'mean' (default) or 'cls'; {@code loss} 'infonce' (default;
     * trains on pairs), 'simcse' (on sentences) or 'cosine' (on scored pairs); {@code temperature} τ (default 0.05).
     */
    EmbeddingTask embedding(@NamedParam(value = 'pooling', type = String) @NamedParam(value = 'loss', type = String)
                            @NamedParam(value = 'temperature', type = Number) Map<String, ?> args = [:]) {
        // each value is marked here, so the runtime's "temperature = ..." lands on this line
        ['pooling', 'loss', 'temperature'].each { String k -> origins.mark(k) }
        new EmbeddingTask(EmbeddingChoices.pooling(origins, (String) args.pooling ?: 'mean'),
                EmbeddingChoices.loss(origins, (String) args.loss ?: 'infonce'),
                args.temperature == null ? 0.05d : ((Number) args.temperature).doubleValue())
    }

    /** One label per text: {@code classification(labels: ['ham', 'spam'])}. */
    Task classification(@NamedParam(value = 'labels', type = List, required = true) Map<String, ?> args) {
        new Task(TaskType.CLASSIFICATION, ((List<?>) args.labels).collect { String.valueOf(it) })
    }

    /** The embedding task, or null for a classification (or unset) task. */
    @PackageScope
    EmbeddingTask embeddingTask() {
        embeddingTask
    }

    /** The model as the embedding runtime names it: a directory, or an embedded model's name. */
    @PackageScope
    String modelName() {
        path?.toString() ?: source
    }

    @PackageScope
    ModelSpec build() {
        new ModelSpec(source, path, task?.type(), task?.labels())
    }
}
