package org.peft4j.cli

/**
 * A mistake in what the user asked for (a missing file, a bad model name): printed without a stack trace, exit 2.
 * Kept apart from {@link IllegalArgumentException} so that a bug inside the runtime still shows as a failure.
 */
class UserError extends RuntimeException {
    UserError(String message) {
        super(message)
    }
}
