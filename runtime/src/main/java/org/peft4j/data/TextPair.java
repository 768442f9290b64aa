package org.peft4j.data;

/**
 * One training pair for contrastive learning, as read from a pair JSONL file.
 *
 * @param anchor   the text to embed (a query, a title)
 * @param positive the text that belongs with it
 * @param negative a hard negative (related but wrong), or null
 * @param line     1-based line in the source file, for messages
 */
public record TextPair(String anchor, String positive, String negative, long line) {
}
