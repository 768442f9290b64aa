package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.NamedParam
import groovy.transform.PackageScope
import org.peft4j.models.ModelSpec
import org.peft4j.models.TaskType

import java.nio.file.Path

/** {@code model { source 'minilm'; task classification(labels: ['ham', 'spam']) }} */
@CompileStatic
class ModelContext extends Context {

    private String source
    private Path path
    private Task task

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
        mark('task')
    }

    /** One label per text: {@code classification(labels: ['ham', 'spam'])}. */
    Task classification(@NamedParam(value = 'labels', type = List, required = true) Map<String, ?> args) {
        new Task(TaskType.CLASSIFICATION, ((List<?>) args.labels).collect { String.valueOf(it) })
    }

    @PackageScope
    ModelSpec build() {
        new ModelSpec(source, path, task?.type(), task?.labels())
    }
}
