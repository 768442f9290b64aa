package org.peft4j.dsl

import org.peft4j.models.TaskType

/** What {@code classification(labels: [...])} returns for {@code task}. */
record Task(TaskType type, List<String> labels) {
}
