package org.deltagrad;

/**
 * A problem with what the caller asked for or supplied (a missing or corrupt file, a training run that
 * diverged), as opposed to a bug: the message alone says what went wrong and what to do, so front ends such
 * as the command line show it without a stack trace.
 */
public class DeltagradException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DeltagradException(String message) {
        super(message);
    }

    public DeltagradException(String message, Throwable cause) {
        super(message, cause);
    }
}
