package org.peft4j.dsl

import java.nio.file.Path

/**
 * A JSONL file of a recipe: {@code jsonl('train.jsonl') { text 'review'; label 'stars' }}.
 * {@code text} and {@code label} are null unless the file's block named them.
 */
record JsonlSource(Path path, String text, String label) {
}
