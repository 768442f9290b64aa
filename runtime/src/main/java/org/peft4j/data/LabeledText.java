package org.peft4j.data;

/**
 * One example as read from a file.
 *
 * @param text  the text to classify
 * @param label index into the task's declared labels
 * @param line  1-based line in the source file, for messages about this example
 */
public record LabeledText(String text, int label, long line) {
}
