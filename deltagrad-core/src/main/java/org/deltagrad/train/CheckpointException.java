package org.deltagrad.train;

/** A checkpoint that cannot be read or does not fit the run that would continue from it; the message names the file. */
public final class CheckpointException extends org.deltagrad.DeltagradException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
