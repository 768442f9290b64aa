package org.peft4j.data;

/** How the lines of a causal-LM data file read, and which of their tokens are learned. */
public enum TextFormat {
    /** {@code {"instruction", "input"?, "output"}}: the output is learned. */
    INSTRUCTIONS,
    /** {@code {"messages": [{"role", "content"}, ...]}}: the assistant turns are learned. */
    CHATS,
    /** {@code {"text": ...}} (the field is data.text): every token is learned. */
    TEXTS
}
