package org.peft4j.generate;

/**
 * The result of one generation.
 *
 * @param ids        the new token ids (a stop token not included)
 * @param text       their text with special tokens left out (Transformers' skip_special_tokens=True), cut before a
 *                   stop string; null when generating ids without a tokenizer
 * @param stopReason why it ended
 * @param seconds    wall time of the decoding loop
 * @param firstTokenSeconds wall time until the first new token was chosen: reading the prompt and
 *                   one step, what a user waits before anything appears; 0 when no step ran
 */
public record Generation(int[] ids, String text, StopReason stopReason, double seconds, double firstTokenSeconds) {

    /** Why a generation ended. */
    public enum StopReason { MAX_NEW_TOKENS, STOP_TOKEN, STOP_STRING, MAX_POSITIONS }

    /** New tokens per second, over the whole loop (the prompt's reading included). */
    public double tokensPerSecond() {
        return seconds == 0 ? 0 : ids.length / seconds;
    }
}
