package org.peft4j.train;

/** Training had to stop (a non-finite loss, say); the message says where and why. */
public final class TrainingException extends RuntimeException {

    public TrainingException(String message) {
        super(message);
    }
}
