package org.peft4j.train;

/** A checkpoint could not be written or read; the message names the checkpoint and what is still intact. */
public final class CheckpointException extends RuntimeException {

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }

    public CheckpointException(String message) {
        super(message);
    }
}
