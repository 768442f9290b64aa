package org.peft4j.dsl

import org.peft4j.models.TaskType
import org.peft4j.run.CausalLmOptions

/**
 * What {@code classification(labels: [...])} or {@code causalLm(...)} returns for {@code task}.
 * {@code causalLm} holds a causal-LM task's options; its data format is filled in from the data block.
 */
record Task(TaskType type, List<String> labels, CausalLmOptions causalLm) {

    Task(TaskType type, List<String> labels) {
        this(type, labels, null)
    }
}
