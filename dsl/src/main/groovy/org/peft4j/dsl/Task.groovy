package org.peft4j.dsl

import org.peft4j.models.TaskType
import org.peft4j.models.core.ClassifierHead
import org.peft4j.run.CausalLmOptions
import org.peft4j.run.EmbeddingOptions

/**
 * What {@code classification(labels: [...], head: ...)}, {@code causalLm(...)} or {@code embedding(...)} returns
 * for {@code task}. {@code head} is a classifier's head, null for the model's own convention; {@code causalLm}
 * holds a causal-LM task's options (its data format is filled in from the data block), {@code embedding} an
 * embedding task's.
 */
record Task(TaskType type, List<String> labels, CausalLmOptions causalLm, EmbeddingOptions embedding,
            ClassifierHead head) {

    Task(TaskType type, List<String> labels) {
        this(type, labels, null, null, null)
    }

    Task(TaskType type, List<String> labels, CausalLmOptions causalLm, EmbeddingOptions embedding) {
        this(type, labels, causalLm, embedding, null)
    }
}
