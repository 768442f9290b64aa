package org.peft4j.data;

/**
 * One tokenized text: ids and token type ids with special tokens added, no padding.
 *
 * @param ids       token ids, {@code [CLS] ... [SEP]} for a BERT tokenizer
 * @param typeIds   token type (segment) ids, same length as {@code ids}
 * @param truncated whether the text was longer than the tokenizer's maxLength and was cut
 */
public record Encoded(int[] ids, int[] typeIds, boolean truncated) {

    public int length() {
        return ids.length;
    }
}
