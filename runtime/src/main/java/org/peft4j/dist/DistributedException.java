package org.peft4j.dist;

/** A worker of a distributed job could not start, reach its peers, or lost one; the message says which. */
public class DistributedException extends RuntimeException {

    public DistributedException(String message) {
        super(message);
    }

    public DistributedException(String message, Throwable cause) {
        super(message, cause);
    }
}
