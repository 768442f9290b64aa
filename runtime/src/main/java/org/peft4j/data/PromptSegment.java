package org.peft4j.data;

/**
 * A piece of a rendered training text.
 *
 * @param text    the text, special tokens written out (e.g. {@code <|im_end|>})
 * @param learned whether its tokens are trained on (the response) or only read (the prompt)
 */
public record PromptSegment(String text, boolean learned) {
}
