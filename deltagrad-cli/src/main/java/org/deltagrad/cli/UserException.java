package org.deltagrad.cli;

/**
 * A mistake by the user noticed while a command runs (a missing column, an unreadable model file...).
 * The CLI reports its message as one line, without a stack trace, and exits with status 1.
 */
public class UserException extends org.deltagrad.DeltagradException {
    private static final long serialVersionUID = 1L;

    public UserException(String message) {
        super(message);
    }

    public UserException(String message, Throwable cause) {
        super(message, cause);
    }
}
